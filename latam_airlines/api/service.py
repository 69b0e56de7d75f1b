"""POST /predict as bytes in, (status, bytes) out, plus a raw ASGI fast path that serves it.

The fast path answers POST /predict before FastAPI's middleware, routing, request and response
objects (measured in reports/stress_test.md); every other path, and /docs, stay with FastAPI.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from latam_airlines.api.predictor import CachedPredictor
from latam_airlines.api.validation import FlightValidator, RequestInvalid, problem

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON_HEADERS = [(b"content-type", b"application/json")]


def problems_body(problems: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"detail": problems}, option=orjson.OPT_SERIALIZE_NUMPY, default=str)


class PredictService:
    """Validates a /predict body and answers it: 200 with labels and probabilities, or 400."""

    def __init__(self, validator: FlightValidator, predictor: CachedPredictor, max_body_bytes: int) -> None:
        self.validator = validator
        self.predictor = predictor
        self.max_body_bytes = max_body_bytes

    def too_large(self, size: int) -> tuple[int, bytes]:
        message = f"body larger than {self.max_body_bytes} bytes"
        return 400, problems_body([problem(None, "body", size, message)])

    def answer(self, body: bytes) -> tuple[int, bytes]:
        if len(body) > self.max_body_bytes:
            return self.too_large(len(body))
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            snippet = body[:80].decode("utf-8", errors="replace")
            return 400, problems_body(
                [problem(None, "body", snippet, f"the body is not valid JSON ({error})")]
            )
        try:
            flights = self.validator.flights(payload)
        except RequestInvalid as invalid:
            return 400, problems_body(invalid.problems)
        labels, probabilities = self.predictor.predict(flights)
        return 200, orjson.dumps({"predict": labels, "probability": probabilities})


def declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class PredictFastPath:
    """ASGI app in front of `app`: POST /predict answered by `service` directly, the rest (and
    lifespan) passed to `app`. Outside FastAPI on purpose: FastAPI wraps even user middleware
    in its own error, telemetry and body-limit layers (py-spy: ~10 % of a cached request).

    Other attributes (state, openapi, routes, ...) are the wrapped app's, so the pair can be
    used like the FastAPI app it wraps."""

    def __init__(self, app: ASGIApp, service: PredictService, path: str = "/predict") -> None:
        self.app = app
        self.service = service
        self.path = path

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        declared = declared_length(scope)
        if declared is not None and declared > self.service.max_body_bytes:
            status, body = self.service.too_large(declared)
        else:
            received, size = await self._read_body(receive)
            status, body = self.service.too_large(size) if received is None else self.service.answer(received)
        await send({"type": "http.response.start", "status": status,
                    "headers": [*JSON_HEADERS, (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})

    async def _read_body(self, receive: Receive) -> tuple[bytes | None, int]:
        """(the whole body, its size); (None, size so far) once past the limit (chunked uploads)."""
        message = await receive()
        chunks = [message.get("body", b"")]
        size = len(chunks[0])
        while message.get("more_body", False):
            message = await receive()
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.service.max_body_bytes:
                return None, size
        return (chunks[0] if len(chunks) == 1 else b"".join(chunks)), size
