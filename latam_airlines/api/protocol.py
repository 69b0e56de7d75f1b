"""uvicorn's httptools protocol with the limits a public endpoint needs and uvicorn lacks.

uvicorn closes idle keep-alive connections (`timeout_keep_alive`) but never times out a client
that opens a connection and sends nothing, trickles its headers or its body one byte a second,
nor caps the size of headers; each such client holds a connection and its buffers for good.
`GuardedHttpToolsProtocol` adds, per connection:
- a header timeout: a request's headers must be complete HEADER_TIMEOUT_S after the connection
  opened or the previous answer went out (idle and slow-header connections are closed);
- a body timeout: its body must be complete BODY_TIMEOUT_S after its headers (else 408);
- a header size cap: MAX_HEADER_BYTES before the headers are complete (else 431);
- a connection cap per worker process: MAX_CONNECTIONS open at once; one more is answered
  429 with Retry-After and closed at once (capacity: a client error to retry, never a 5xx).
Used by `latam serve` (api/server.py) as uvicorn's `http` implementation. The limits can be
set per deployment with LATAM_HEADER_TIMEOUT_S, LATAM_BODY_TIMEOUT_S, LATAM_MAX_HEADER_BYTES and
LATAM_MAX_CONNECTIONS (read when the worker starts).
"""

from __future__ import annotations

import asyncio
import os

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT_S = float(os.environ.get("LATAM_HEADER_TIMEOUT_S") or 10.0)
BODY_TIMEOUT_S = float(os.environ.get("LATAM_BODY_TIMEOUT_S") or 30.0)
MAX_HEADER_BYTES = int(os.environ.get("LATAM_MAX_HEADER_BYTES") or 64 * 1024)
MAX_CONNECTIONS = int(os.environ.get("LATAM_MAX_CONNECTIONS") or 2048)


def _answer(status: str, message: str, extra: str = "") -> bytes:
    body = f'{{"detail": [{{"index": null, "field": null, "value": null, "message": "{message}"}}]}}'
    return (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
        f"connection: close\r\n{extra}\r\n{body}"
    ).encode()


_TIMEOUT_408 = _answer("408 Request Timeout", "the request did not arrive within the time allowed")
_TOO_BIG_431 = _answer("431 Request Header Fields Too Large", f"headers larger than {MAX_HEADER_BYTES} bytes")
_FULL_429 = _answer("429 Too Many Requests", "too many open connections; retry shortly", "retry-after: 1\r\n")


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol plus header/body timeouts, a header size cap and a connection cap."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._deadline: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._awaiting_headers = True
        if len(self.connections) >= MAX_CONNECTIONS:
            self.transport = transport
            transport.write(_FULL_429)
            transport.close()
            return
        super().connection_made(transport)
        self._arm(HEADER_TIMEOUT_S)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self.flow is None:  # refused at connection_made: uvicorn never saw it
            return
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._awaiting_headers and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES:
                self._refuse(_TOO_BIG_431)

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._header_bytes = 0
        self._arm(BODY_TIMEOUT_S)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        if self.cycle is not None and self.cycle.response_complete:
            self._await_next_request()  # answered before its body ended (e.g. a GET with a body)
        else:
            self._disarm()  # the answer may take its time; the header timer starts after it

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            return
        if self.cycle is not None and self.cycle.more_body:
            return  # the body is still arriving: its timer runs on, the next request's after it
        self._await_next_request()

    def _await_next_request(self) -> None:
        self._awaiting_headers = True
        self._header_bytes = 0
        self._arm(HEADER_TIMEOUT_S)

    # ------------------------------------------------------------------ timers
    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._timed_out)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _timed_out(self) -> None:
        self._deadline = None
        if self._awaiting_headers:  # idle: close without a word; part of a request: 408
            answer = _TIMEOUT_408 if self._header_bytes > 0 else b""
        else:  # a body too slow: 408, unless the request was already being answered
            answer = b"" if self.cycle is not None and self.cycle.response_started else _TIMEOUT_408
        self._refuse(answer)

    def _refuse(self, answer: bytes) -> None:
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False
            if self.cycle.response_started:
                answer = b""
        if answer:
            self.transport.write(answer)
        self.transport.close()
