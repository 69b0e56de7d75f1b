"""The REST API: FastAPI app, request/response schemas, model loading, serving (load tests: latam_airlines/loadtest)."""

from latam_airlines.api.app import app_from_env, create_app

__all__ = ["app_from_env", "create_app"]
