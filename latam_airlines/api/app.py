"""The FastAPI app: POST /predict, GET /health, GET /model, OpenAPI docs at /docs (POST and
GET /schedule, the planned-schedule feed, are answered by the serving wrapper, api/reloading.py).

POST /predict is answered by a raw ASGI fast path (`service.py`): orjson parsing, plain checks,
cached probabilities and pre-serialised bytes, each measured faster than FastAPI's pydantic
body, router and JSONResponse (reports/stress_test.md); /docs still shows the full schema.
"""

from __future__ import annotations

import os
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from latam_airlines.api.predictor import CachedPredictor, single_threaded
from latam_airlines.api.schemas import (
    ErrorResponse,
    Health,
    ModelInfo,
    PredictRequest,
    PredictResponse,
    ScheduleRequest,
    ScheduleResponse,
)
from latam_airlines.api.service import PredictFastPath, PredictService
from latam_airlines.api.validation import FlightValidator, problem
from latam_airlines.models import DelayModel

# Environment read by `app_from_env` (what `latam serve` and the container set).
MODEL_PATH_ENV = "LATAM_MODEL_PATH"
MAX_BATCH_ENV = "LATAM_MAX_BATCH"
CACHE_SIZE_ENV = "LATAM_CACHE_SIZE"
CACHE_BYTES_ENV = "LATAM_CACHE_BYTES"
FAST_PATH_ENV = "LATAM_FAST_PATH"  # 0 serves /predict through FastAPI's router (for measurements)
# Bytes allowed per flight in a body: generous for the richest record, bounds memory per request.
BODY_BYTES_PER_FLIGHT = 1_024

JSON = "application/json"
_HEALTH_BODY = orjson.dumps({"status": "ok"})


def json_response(content: Any, status_code: int = 200) -> Response:
    return Response(
        orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY, default=str),
        status_code=status_code,
        media_type=JSON,
    )


def bad_request(problems: list[dict[str, Any]]) -> Response:
    """The 400 answer: every problem with its flight index, field and bad value."""
    return json_response({"detail": problems}, status_code=400)


def model_info(model: DelayModel, max_batch: int) -> dict[str, Any]:
    from latam_airlines.models.schedule_feed import schedule_state

    metadata = model.metadata
    return {
        "version": metadata.get("version"),
        "model": metadata.get("model"),
        "data_fingerprint": metadata.get("data_fingerprint"),
        "rows": metadata.get("rows"),
        "outcomes_until": model.outcomes_until,
        "threshold": model.threshold,
        "feed": model.feed_state(),
        "schedule": schedule_state(model),
        "metrics": model.metrics,
        "features": model.features,
        "known_values": model.known_values,
        "max_batch": max_batch,
        "library_versions": metadata.get("library_versions", {}),
    }


def create_app(
    model: DelayModel,
    max_batch: int | None = None,
    cache_size: int | None = None,
    fast_path: bool = True,
    cache_bytes: int | None = None,
) -> FastAPI | PredictFastPath:
    """The API serving `model`; batches hold at most `max_batch` flights. Limits not given come
    from the settings (serve.max_batch, serve.cache_size, serve.cache_bytes: the prediction
    cache's bound beyond the warmed minimal records).

    fast_path: answer POST /predict in a raw ASGI app in front of FastAPI (which gets the rest)."""
    from latam_airlines.settings import current, filled

    max_batch, cache_size, cache_bytes = filled(
        current().serve, max_batch=max_batch, cache_size=cache_size, cache_bytes=cache_bytes
    )
    validator = FlightValidator(model.known_values, max_batch=max_batch, model_fields=model.features)
    predictor = CachedPredictor(single_threaded(model), cache_size=cache_size, cache_bytes=cache_bytes)
    predictor.warm()  # the minimal records' answers are ready before the first request
    service = PredictService(validator, predictor, max_body_bytes=max_batch * BODY_BYTES_PER_FLIGHT)
    info_body = orjson.dumps(model_info(model, max_batch), option=orjson.OPT_SERIALIZE_NUMPY, default=str)

    app = FastAPI(
        title="LATAM flight-delay API",
        version=str(model.metadata.get("version", "unknown")),
        description=(
            "Probability that a flight departing SCL leaves more than 15 minutes late. "
            f"POST up to {max_batch} flights per request to /predict; invalid requests get 400 "
            "with the flight index, field and bad value (413: body too large, 415: encoded body). "
            "Times are Santiago local time (America/Santiago) or carry a UTC offset."
        ),
    )
    app.state.model = model
    app.state.predictor = predictor
    app.state.service = service

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, error: RequestValidationError) -> Response:
        # Keep 400 (never FastAPI's 422) should any declared parameter fail to parse.
        problems = [
            problem(None, ".".join(map(str, item.get("loc", ()))), item.get("input"), item.get("msg", ""))
            for item in error.errors()
        ]
        return bad_request(problems)

    @app.get("/health", response_model=Health, summary="Liveness")
    async def health() -> Response:
        return Response(_HEALTH_BODY, media_type=JSON)

    @app.get("/model", response_model=ModelInfo, summary="The model being served")
    async def model_endpoint() -> Response:
        return Response(info_body, media_type=JSON)

    @app.post(
        "/predict",
        summary="Delay labels and probabilities for a batch of flights",
        response_model=PredictResponse,
        responses={
            400: {"model": ErrorResponse, "description": "Invalid request"},
            408: {"model": ErrorResponse, "description": "The request did not arrive in time"},
            413: {"model": ErrorResponse, "description": "Body larger than max_batch flights allow"},
            415: {"model": ErrorResponse, "description": "Content-Encoding other than identity"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {JSON: {"schema": {"$ref": "#/components/schemas/PredictRequest"}}},
            }
        },
    )
    async def predict(request: Request) -> Response:
        # Reached only with fast_path=False: the same service behind FastAPI's routing.
        declared = request.headers.get("content-length")
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            status, body = service.unsupported_encoding(encoding.encode())
        elif declared and declared.isdigit() and int(declared) > service.max_body_bytes:
            status, body = service.too_large(int(declared))
        else:
            status, body = service.answer(await request.body())
        return Response(body, status_code=status, media_type=JSON)

    not_here = [
        problem(None, "path", "/schedule", "the schedule feed is answered by `latam serve`, not this app")
    ]

    @app.post(
        "/schedule",
        summary="Record planned flights in the served model's schedule (bearer token)",
        description=(
            "Planned flights leaving SCL (Fecha-I, OPERA, TIPOVUELO, Des-I; Vlo-I, Emp-I, Ori-I "
            f"optional), at most {max_batch} per request, with `Authorization: Bearer "
            "$LATAM_FEED_TOKEN`. Kept per flight: a flight sent again replaces itself, new "
            "flights of a day add to it. Every worker uses them within a second with Redis "
            "(shared_state); without it only a single worker serving a file accepts them."
        ),
        response_model=ScheduleResponse,
        responses={
            400: {"model": ErrorResponse, "description": "Invalid flights: nothing recorded"},
            401: {"model": ErrorResponse, "description": "Missing or wrong token"},
            403: {"model": ErrorResponse, "description": "The feed is off (no LATAM_FEED_TOKEN)"},
            409: {
                "model": ErrorResponse,
                "description": "The model reads no schedule, or nowhere to keep it",
            },
            413: {"model": ErrorResponse, "description": "Body larger than max_batch flights allow"},
            503: {"model": ErrorResponse, "description": "Redis unreachable: nothing recorded"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {JSON: {"schema": {"$ref": "#/components/schemas/ScheduleRequest"}}},
            }
        },
    )
    async def schedule_feed() -> Response:
        return json_response({"detail": not_here}, status_code=503)

    @app.get("/schedule", summary="Flights the served model counts on a day (?day=YYYY-MM-DD)")
    async def schedule_day() -> Response:
        return json_response({"detail": not_here}, status_code=503)

    # /predict and /schedule read their bodies themselves; register the schemas for /docs.
    _register_schema(app, PredictRequest)
    _register_schema(app, ScheduleRequest)
    return PredictFastPath(app, service) if fast_path else app


def _register_schema(app: FastAPI, model: type) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        definitions = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(definitions.pop("$defs", {}))
        components[model.__name__] = definitions
        return schema

    app.openapi = openapi


def app_from_env() -> Any:
    """uvicorn factory: the model at $LATAM_MODEL_PATH (a file or a models:/ URI; default params
    train.model_path), swapped in place when it changes (serve.poll_seconds) or when Redis
    ($LATAM_REDIS_URL / shared_state.redis_url) publishes a feed or a promotion."""
    from latam_airlines.settings import load_settings, resolve

    settings = load_settings()  # params.yaml < LATAM_* (what `latam serve` set for its workers)
    path = os.environ.get(MODEL_PATH_ENV) or resolve(settings.train.model_path)
    serve = settings.serve
    max_batch, cache_size, cache_bytes = serve.max_batch, serve.cache_size, serve.cache_bytes
    fast_path = os.environ.get(FAST_PATH_ENV, "1") != "0"
    # A file or models:/name@alias, with the registry fallback and hot swaps (api/reloading.py).
    from latam_airlines.api.reloading import FEED_TOKEN_ENV, ModelSource, ReloadingApp
    from latam_airlines.api.shared_state import SharedState, shared_settings

    shared = shared_settings(settings.as_params())  # Redis-shared outcome history and promotions, if set
    return ReloadingApp(
        ModelSource(str(path)),
        lambda model: create_app(
            model, max_batch=max_batch, cache_size=cache_size, fast_path=fast_path, cache_bytes=cache_bytes
        ),
        serve.poll_seconds,
        info=lambda model: model_info(model, max_batch),
        shared=SharedState.from_settings(shared),
        sync_seconds=shared.sync_seconds,
        feed_token=os.environ.get(FEED_TOKEN_ENV),
        max_batch=max_batch,
        workers=serve.workers,
    )
