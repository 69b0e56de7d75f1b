"""POST /predict as bytes in, (status, bytes) out, plus a raw ASGI fast path that serves it.

The fast path answers POST /predict before FastAPI's middleware, routing, request and response
objects (measured in reports/stress_test.md); every other path, and /docs, stay with FastAPI.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
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
# An oversize body is read and dropped (up to this much; the server's body timeout bounds the
# time, api/protocol.py) before the 413,
# so clients that send their whole body before reading (urllib, requests) get the answer
# instead of a broken pipe; beyond it the connection is closed after the answer.
DRAIN_LIMIT_BYTES = 64 * 2**20
# Bodies held at once by requests being read, per worker: past it a request is answered 429
# (Retry-After) rather than let many large uploads together exhaust memory.
MAX_INFLIGHT_BODY_BYTES = int(os.environ.get("LATAM_MAX_INFLIGHT_BODY_BYTES") or 256 * 2**20)


def problems_body(problems: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"detail": problems}, option=orjson.OPT_SERIALIZE_NUMPY, default=str)


class PredictService:
    """Validates a /predict body and answers it: 200 with labels and probabilities, or 400."""

    def __init__(self, validator: FlightValidator, predictor: CachedPredictor, max_body_bytes: int) -> None:
        self.validator = validator
        self.predictor = predictor
        self.max_body_bytes = max_body_bytes

    def too_large(self, size: int) -> tuple[int, bytes]:
        message = f"body larger than {self.max_body_bytes} bytes; send at most serve.max_batch flights"
        return 413, problems_body([problem(None, "body", size, message)])

    @staticmethod
    def busy() -> tuple[int, bytes]:
        message = "too many large requests at once; retry shortly"
        return 429, problems_body([problem(None, "body", None, message)])

    @staticmethod
    def unsupported_encoding(encoding: bytes) -> tuple[int, bytes]:
        message = "send the body as plain (identity-encoded) JSON"
        return 415, problems_body([problem(None, "content-encoding", encoding.decode("latin-1"), message)])

    def answer(self, body: bytes) -> tuple[int, bytes]:
        checked = self.check(body)
        if isinstance(checked, tuple):
            return checked
        return self.predicted(self.predictor.predict(checked))

    def check(self, body: bytes) -> tuple[int, bytes] | list[dict[str, Any]]:
        """The validated flight records of `body`, or the (status, body) refusing it."""
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
            return self.validator.flights(payload)
        except RequestInvalid as invalid:
            return 400, problems_body(invalid.problems)

    @staticmethod
    def predicted(answers: tuple[list[Any], ...]) -> tuple[int, bytes]:
        if len(answers) == 3:  # a model reading planned-schedule counts says what they stood on
            labels, probabilities, schedule = answers
            return 200, orjson.dumps({"predict": labels, "probability": probabilities, "schedule": schedule})
        labels, probabilities = answers
        return 200, orjson.dumps({"predict": labels, "probability": probabilities})


def request_headers(scope: Scope) -> tuple[int | None, bytes | None]:
    """(declared Content-Length or None, Content-Encoding other than identity or None)."""
    length = encoding = None
    for name, value in scope["headers"]:
        if name == b"content-length":
            length = int(value) if value.isdigit() else None
        elif name == b"content-encoding" and value.strip().lower() not in (b"", b"identity"):
            encoding = value[:40]
    return length, encoding


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
        self.inflight_bytes = 0  # body bytes held by requests being read (one event loop: no lock)
        self._model_thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="latam-model")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        declared, encoding = request_headers(scope)
        close = False
        headers_extra: list[tuple[bytes, bytes]] = []
        try:
            if encoding is not None:
                status, body = self.service.unsupported_encoding(encoding)
                close = not await self._drain(receive)
            elif declared is not None and declared > self.service.max_body_bytes:
                status, body = self.service.too_large(declared)
                close = not await self._drain(receive)
            else:
                received, size = await self._read_body(receive)
                if received is None:
                    status, body = self.service.too_large(size)
                    close = not await self._drain(receive)
                elif received is BUSY:
                    status, body = self.service.busy()
                    close = True
                    headers_extra = [(b"retry-after", b"1")]
                else:
                    status, body = await self._answer(received)
        except ClientGone:
            return
        headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode()), *headers_extra]
        if close:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, received: bytes) -> tuple[int, bytes]:
        """Cached records are answered on the event loop; records needing the model are predicted
        on one model thread, so a flood of never-seen records (each a model call) queues there
        while cached requests keep being answered in microseconds."""
        checked = self.service.check(received)
        if isinstance(checked, tuple):
            return checked
        predictor = self.service.predictor
        cached = predictor.cached(checked)
        if cached is None:
            loop = asyncio.get_running_loop()
            cached = await loop.run_in_executor(self._model_thread, predictor.predict, checked)
        return self.service.predicted(cached)

    @staticmethod
    async def _next(receive: Receive) -> Message:
        # Slow clients are cut by the server's header and body timeouts (api/protocol.py): the
        # connection closes and this receive answers http.disconnect.
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        return message

    async def _read_body(self, receive: Receive) -> tuple[bytes | None, int]:
        """(the whole body, its size); (None, size so far) once past the limit (chunked uploads)."""
        message = await self._next(receive)
        chunks = [message.get("body", b"")]
        size = len(chunks[0])
        if not message.get("more_body", False):
            return chunks[0], size  # the usual small request: one message
        self.inflight_bytes += size
        try:
            while message.get("more_body", False):
                message = await self._next(receive)
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                self.inflight_bytes += len(chunks[-1])
                if size > self.service.max_body_bytes:
                    return None, size
                if self.inflight_bytes > MAX_INFLIGHT_BODY_BYTES:
                    return BUSY, size
            return b"".join(chunks), size
        finally:
            self.inflight_bytes -= size

    async def _drain(self, receive: Receive) -> bool:
        """Read and drop the rest of the body; False when it is too long or slow to drain."""
        size = 0
        while size <= DRAIN_LIMIT_BYTES:
            message = await self._next(receive)
            size += len(message.get("body", b""))
            if not message.get("more_body", False):
                return True
        return False


BUSY = b"<busy>"  # sentinel of _read_body: too many bytes in flight


class ClientGone(Exception):
    """The client disconnected before its request was read: nobody to answer."""
