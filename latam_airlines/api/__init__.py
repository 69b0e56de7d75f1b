"""The REST API: FastAPI app, request/response schemas, model loading, serving, stress tests."""

from latam_airlines.api.app import app_from_env, create_app

__all__ = ["app_from_env", "create_app"]
