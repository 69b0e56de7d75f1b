"""Where the served model comes from, and swapping a new one in while serving.

A model source is a file (as `latam train` writes) or a registry URI (`models:/name@champion`).
- Registry unreachable at start: serve the local copy of the alias (models/champion.joblib,
  written whenever the server loads the alias from the registry and on promotion); with no copy,
  stop with one clear line (InputError, exit 2). GET /model says which (`source`, `version`).
- While serving, a thread polls the source every `poll_seconds` (the alias's version, or the
  file's modification: `latam outcomes` updates a file in place) and, on a change, loads the new
  model and builds its app off the event loop, then replaces one reference: requests already
  in flight finish on the old app, the next ones go to the new. No request is dropped.
- With shared state (api/shared_state.py, a Redis URL set), the same thread also reads Redis's
  generation counter every `sync_seconds`: a published outcome feed is applied to a copy of the
  served model and swapped in the same way; a published promotion re-polls the source at once.
  Redis down: the worker keeps its in-process state and GET /model says so (`shared_state`).
- POST /schedule (a bearer token, $LATAM_FEED_TOKEN) records planned flights in the served
  model's schedule (models/schedule_feed.py): with Redis, merged into the shared schedule and
  applied by every worker as outcome feeds are; without Redis, only for one worker serving a
  file, which is rewritten (atomically) so the feed survives reloads and restarts.
  GET /schedule?day=YYYY-MM-DD: the flights the served model counts on that day.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hmac
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from latam_airlines.api.shared_state import SharedState
from latam_airlines.api.validation import problem
from latam_airlines.errors import InputError
from latam_airlines.models import DelayModel, load_model
from latam_airlines.models.schedule_feed import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    apply_schedule,
    check_schedule,
    day_counts,
    fed_schedule,
    merge_schedule,
    reads_schedule,
    schedule_state,
)

log = logging.getLogger("latam_airlines.api")

POLL_SECONDS_ENV = "LATAM_POLL_SECONDS"  # read by settings.py as serve.poll_seconds
FEED_TOKEN_ENV = "LATAM_FEED_TOKEN"  # bearer token of POST /schedule (unset: the route is off)
# Bytes allowed per planned flight in a POST /schedule body (as /predict: bounds memory).
SCHEDULE_BYTES_PER_FLIGHT = 1_024


@dataclass
class ServedModel:
    """A loaded model and where it came from (what GET /model reports)."""

    model: DelayModel
    source: str  # file, registry or fallback
    uri: str
    version: str | None = None  # the registry version (a file: None)
    stamp: Any = None  # what changes when the source has a new model
    note: str | None = None  # why the fallback is served
    loaded_at: float = field(default_factory=time.time)

    def info(self) -> dict[str, Any]:
        return {"source": self.source, "uri": self.uri, "registry_version": self.version,
                "source_note": self.note, "loaded_at": round(self.loaded_at, 3)}  # fmt: skip


def _file_stamp(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


class ModelSource:
    """A file path or a `models:/` URI, loaded once at start and polled for changes."""

    def __init__(self, spec: str | Path, settings: Mapping[str, Any] | None = None) -> None:
        from latam_airlines.tracking.registry import is_registry_uri, parse_uri

        self.spec = str(spec)
        self.settings = settings
        self.ref = parse_uri(self.spec) if is_registry_uri(self.spec) else None
        self.path = None if self.ref else Path(self.spec).resolve()

    def _tracking(self) -> dict[str, Any]:
        from latam_airlines.tracking.runs import tracking_settings

        settings = tracking_settings() if self.settings is None else dict(self.settings)
        return settings | {"registered_model": self.ref.name}

    # ------------------------------------------------------------- loading
    def load(self) -> ServedModel:
        """The model to serve at start (InputError when there is none)."""
        if self.ref is None:
            return ServedModel(load_model(self.path), "file", str(self.path), stamp=_file_stamp(self.path))
        try:
            return self._from_registry()
        except InputError as error:
            return self._fallback(str(error))

    def _from_registry(self, known_version: str | None = None) -> ServedModel | None:
        """The alias's model (None when its version is still `known_version`); caches it locally."""
        from latam_airlines.tracking import registry

        settings = self._tracking()
        if self.ref.alias and known_version is not None:
            version = registry.alias_version(self.ref.alias, settings)
            if version == known_version:
                return None
        with tempfile.TemporaryDirectory(prefix="latam_serve_") as folder:
            model, version, artifact = registry.download_model(self.ref, folder, settings)
            if version == known_version:
                return None
            with contextlib.suppress(OSError):  # a read-only disk only loses the fallback
                registry.cache_model(artifact, self.ref, version, settings)
        return ServedModel(model, "registry", self.ref.uri, version=version, stamp=version)

    def _fallback(self, why: str) -> ServedModel:
        from latam_airlines.tracking.registry import cache_path, cached_version

        path = cache_path(self.ref, self._tracking())
        if not path.exists():
            raise InputError(
                f"{why}; and no local copy of {self.ref.uri} to fall back on ({path} is written "
                "whenever `latam serve` loads it from the registry or `latam promote` moves it)"
            )
        note = f"registry unreachable at start ({why}); serving the local copy {path}"
        log.warning(note)
        version = cached_version(path)
        return ServedModel(load_model(path), "fallback", str(path), version=version, stamp=None, note=note)

    # ------------------------------------------------------------- polling
    def poll(self, current: ServedModel) -> ServedModel | None:
        """A new ServedModel if the source changed since `current`, else None. Never raises for
        an unreachable registry (the current model keeps serving)."""
        if self.ref is None:
            stamp = _file_stamp(self.path)
            if stamp is None or stamp == current.stamp:
                return None
            return ServedModel(load_model(self.path), "file", str(self.path), stamp=stamp)
        if current.source == "registry" and self.ref.version is not None:
            return None  # models:/name/N never changes
        known = current.version if current.source == "registry" else None
        try:
            return self._from_registry(known)
        except Exception as error:  # noqa: BLE001 - keep serving what we have
            log.debug("registry poll failed: %s", error)
            return None


# Builds the served ASGI app for a model (app.create_app with the serving settings).
AppBuilder = Callable[[DelayModel], Any]


class ReloadingApp:
    """ASGI app serving `current`'s app; GET /model adds where the model came from; a poller
    thread (started on lifespan startup when poll_seconds > 0) swaps new models in."""

    def __init__(
        self, source: ModelSource, build: AppBuilder, poll_seconds: float | None = None,
        info: Callable[[DelayModel], dict[str, Any]] | None = None,
        shared: SharedState | None = None, sync_seconds: float = 1.0,
        feed_token: str | None = None, max_batch: int | None = None, workers: int | None = None,
    ) -> None:  # fmt: skip
        self.source = source
        self.build = build
        from latam_airlines.settings import current, filled

        self.poll_seconds, self.max_batch, self.workers = filled(
            current().serve, poll_seconds=poll_seconds, max_batch=max_batch, workers=workers
        )
        self.feed_token = feed_token or None
        self._schedule_applied: int | None = None  # generation of the shared schedule applied
        self._info = info or (lambda model: {"version": model.metadata.get("version")})
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()  # one swap at a time (poller thread, tests, startup)
        self.swaps = 0
        self.shared = shared
        self.sync_seconds = sync_seconds
        self._generation: int | None = None  # the Redis generation last acted on
        self._promotion: dict[str, str] | None = None
        self._applied: int | None = None  # generation of the shared history the served model holds
        self.shared_status: dict[str, Any] = (
            {"backend": "in-process", "status": "off"} if shared is None
            else {"backend": "redis", "url": shared.url, "status": "not checked yet"}
        )  # fmt: skip
        self._install(source.load())
        if shared is not None:
            self.sync_shared_once()  # a new worker starts from the shared history, not the file's

    def _install(self, served: ServedModel, app: Any = None) -> None:
        app = self.build(served.model) if app is None else app
        body = orjson.dumps({**self._info(served.model), **served.info(), "shared_state": self.shared_status},
                            option=orjson.OPT_SERIALIZE_NUMPY, default=str)  # fmt: skip
        # One tuple, one assignment: a request sees the old (app, body) or the new, never a mix.
        self.current = (served, app, body)

    def _set_shared_status(self, **status: Any) -> None:
        if any(self.shared_status.get(key) != value for key, value in status.items()):
            self.shared_status = {**self.shared_status, **status}
            with self._lock:
                self._install(self.served, self.app)  # the same app, a new /model body

    @property
    def app(self) -> Any:
        return self.current[1]

    @property
    def served(self) -> ServedModel:
        return self.current[0]

    def __getattr__(self, name: str) -> Any:  # state, openapi, routes...: the served app's
        if name == "current":
            raise AttributeError(name)
        return getattr(self.current[1], name)

    def poll_once(self) -> bool:
        """Check the source once; swap in a new model if there is one. True when swapped."""
        with self._lock:
            served = self.source.poll(self.served)
            if served is None:
                return False
            previous = self.served
            self._applied = None
            self._schedule_applied = None
            served = self._with_shared_schedule(self._with_shared_history(served, newer_only=True))
            self._install(served)
            self.swaps += 1
        log.warning(
            "now serving %s (version %s), was %s (version %s)",
            served.uri, served.version or served.model.metadata.get("version"),
            previous.uri, previous.version or previous.model.metadata.get("version"),
        )  # fmt: skip
        return True

    # ------------------------------------------------------------- shared state (Redis)
    def _with_shared_history(self, served: ServedModel, newer_only: bool = False) -> ServedModel:
        """`served`, or a copy holding the history Redis has for its model version (newer_only:
        only when it reaches a later day than the model's own, e.g. a freshly loaded file that
        already holds the feed)."""
        from latam_airlines.models.outcomes import import_history

        if self.shared is None or not served.model.outcomes_until:
            return served
        try:
            state = self.shared.outcomes(str(served.model.metadata.get("version")))
        except self.shared.errors as error:
            self._set_shared_status(status="unreachable", error=f"{type(error).__name__}: {error}")
            return served
        if state is None or state["generation"] == self._applied:
            return served
        if newer_only and (state["until"] or "") <= (served.model.outcomes_until or ""):
            self._applied = state["generation"]
            return served
        model = import_history(served.model, state["history"])
        self._applied = state["generation"]
        self._set_shared_status(
            outcomes_generation=state["generation"], outcomes_published_at=state["published_at"]
        )
        return ServedModel(model, served.source, served.uri, served.version, served.stamp, served.note)

    def _with_shared_schedule(self, served: ServedModel) -> ServedModel:
        """`served`, or a copy holding the planned flights Redis has (merged per flight over
        those its artifact holds), when they changed since applied or the model is new."""
        if self.shared is None or not reads_schedule(served.model):
            return served
        try:
            generation = self.shared.schedule_generation()
            if generation in (0, self._schedule_applied):
                return served
            flights = self.shared.schedule()
        except self.shared.errors as error:
            self._set_shared_status(status="unreachable", error=f"{type(error).__name__}: {error}")
            return served
        model = copy.deepcopy(served.model)  # requests in flight keep reading the served one
        change = apply_schedule(model, flights) if flights is not None else None
        self._schedule_applied = generation
        self._set_shared_status(schedule_generation=generation)
        if change is None or not change.changed:
            return served
        log.warning(
            "applied the shared planned schedule (generation %s): %s", generation, schedule_state(model)
        )
        return ServedModel(model, served.source, served.uri, served.version, served.stamp, served.note)

    # ------------------------------------------------------------- the schedule feed
    def schedule_day(self, day: str | None) -> tuple[int, dict[str, Any]]:
        """GET /schedule?day=YYYY-MM-DD: what the served model counts on that day."""
        model = self.served.model
        if not day:
            return 400, {"detail": [problem(None, "day", None, "give ?day=YYYY-MM-DD")]}
        try:
            return 200, {**day_counts(model, day), "schedule": schedule_state(model)}
        except InputError as error:
            status = 409 if error.column is None and not reads_schedule(model) else 400
            return status, {"detail": [problem(None, "day", day, str(error))]}

    def feed_schedule(self, body: bytes) -> tuple[int, dict[str, Any]]:
        """POST /schedule: record the body's planned flights in the served model (see the
        module docstring for where they are kept); (status, JSON body). Nothing is recorded
        unless every flight is valid."""
        import orjson
        import pandas as pd

        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            return 400, {"detail": [problem(None, "body", None, f"the body is not valid JSON ({error})")]}
        flights = payload.get("flights") if isinstance(payload, dict) else None
        if not isinstance(flights, list) or not flights or set(payload) != {"flights"}:
            message = 'the body must be {"flights": [planned flight, ...]} with at least one flight'
            return 400, {"detail": [problem(None, "body", None, message)]}
        if len(flights) > self.max_batch:
            message = f"at most {self.max_batch} flights per request (serve.max_batch); send several requests"
            return 400, {"detail": [problem(None, "flights", len(flights), message)]}
        allowed = set(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
        for index, flight in enumerate(flights):
            if not isinstance(flight, dict):
                return 400, {"detail": [problem(index, None, None, "a planned flight is a JSON object")]}
            unknown = sorted(set(flight) - allowed)
            if unknown:
                message = f"unknown field; a planned flight has {', '.join(sorted(allowed))}"
                return 400, {"detail": [problem(index, unknown[0], flight[unknown[0]], message)]}
        try:
            planned = check_schedule(pd.DataFrame.from_records(flights), "the request")
        except InputError as error:
            return 400, {"detail": [problem(None, error.column, error.value, str(error))]}
        with self._lock:
            return self._record_schedule(planned)

    def _record_schedule(self, planned: Any) -> tuple[int, dict[str, Any]]:
        served = self.served
        if not reads_schedule(served.model):
            message = (
                "the served model reads no planned-schedule counts (trained without train.stale_schedule)"
            )
            return 409, {"detail": [problem(None, "model", served.model.metadata.get("version"), message)]}
        _, change = merge_schedule(fed_schedule(served.model), planned)
        if self.shared is not None:
            try:
                generation = self.shared.publish_schedule(planned)
            except self.shared.errors as error:
                message = f"Redis at {self.shared.url} unreachable ({type(error).__name__}); nothing recorded, retry"
                return 503, {"detail": [problem(None, "shared_state", None, message)]}
            self.sync_shared_once()  # this worker now; the others within shared_state.sync_seconds
            kept = f"redis (generation {generation})"
        elif self.workers > 1:
            message = (
                "several workers and no shared state: set LATAM_REDIS_URL, or feed with `latam schedule`"
            )
            return 409, {"detail": [problem(None, "shared_state", None, message)]}
        elif served.source != "file":
            message = f"{served.uri} cannot be rewritten and no shared state is set: set LATAM_REDIS_URL"
            return 409, {"detail": [problem(None, "shared_state", None, message)]}
        else:
            model = copy.deepcopy(served.model)
            change = apply_schedule(model, planned)
            if change.changed:
                model.save(self.source.path)  # atomic; the poller sees its own stamp, no reload
                self._install(ServedModel(model, "file", served.uri, stamp=_file_stamp(self.source.path)))
                self.swaps += 1
            kept = str(self.source.path)
        return 200, {"recorded": len(planned), "new": change.new, "replaced": change.replaced,
                     "unchanged": change.unchanged, "schedule": schedule_state(self.served.model),
                     "kept_in": kept}  # fmt: skip

    def authorized(self, scope: Any) -> tuple[int, str] | None:
        """None when the request carries the feed token, else (status, why)."""
        if self.feed_token is None:
            return 403, f"the schedule feed is off: set {FEED_TOKEN_ENV} for `latam serve` to turn it on"
        given = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, token = given.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), self.feed_token.encode()
        ):
            return 401, "send the feed token as Authorization: Bearer <token>"
        return None

    async def _schedule(self, scope: Any, receive: Any, send: Any) -> None:
        from urllib.parse import parse_qs

        import orjson

        headers = [(b"content-type", b"application/json")]
        if scope["method"] == "GET":
            day = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("day") or [None])[0]
            status, answer = await asyncio.to_thread(self.schedule_day, day)
        elif scope["method"] != "POST":
            status, answer = 405, {"detail": [problem(None, "method", scope["method"], "use GET or POST")]}
            headers.append((b"allow", b"GET, POST"))
        elif (refused := self.authorized(scope)) is not None:
            status, answer = refused[0], {"detail": [problem(None, "authorization", None, refused[1])]}
            headers += [(b"www-authenticate", b"Bearer")] if status == 401 else []
        else:
            limit = self.max_batch * SCHEDULE_BYTES_PER_FLIGHT
            body = await _read_body(receive, limit)
            if body is None:
                message = f"body larger than {limit} bytes; send at most serve.max_batch flights"
                status, answer = 413, {"detail": [problem(None, "body", None, message)]}
                headers.append((b"connection", b"close"))
            else:
                status, answer = await asyncio.to_thread(self.feed_schedule, body)
        payload = orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY, default=str)
        headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def sync_shared_once(self) -> bool:
        """Read Redis's generation; act on what was published since the last look (a promotion:
        re-poll the source; a feed for the served model: swap in a copy holding it). True when
        swapped. Redis unreachable: keep serving, report it in /model, retry next time."""
        if self.shared is None:
            return False
        try:
            generation = self.shared.generation()
            promotion = self.shared.model() if generation != self._generation else self._promotion
        except self.shared.errors as error:
            self._set_shared_status(status="unreachable", error=f"{type(error).__name__}: {error}")  # fmt: skip
            return False
        self._set_shared_status(status="connected", error=None, generation=generation)  # fmt: skip
        if generation == self._generation:
            return False
        swapped = False
        if promotion != self._promotion and self._generation is not None:
            swapped = self.poll_once()  # the source has a new model (registry alias or file)
        self._promotion = promotion
        with self._lock:
            served = self._with_shared_history(self.served)
            if served is not self.served:
                log.warning("applied the shared outcome history (generation %s): outcomes until %s",
                            self._applied, served.model.outcomes_until)  # fmt: skip
            served = self._with_shared_schedule(served)
            if served is not self.served:
                self._install(served)
                self.swaps += 1
                swapped = True
        self._generation = generation
        return swapped

    def _poll_forever(self) -> None:
        intervals = [seconds for seconds in (self.poll_seconds, self.shared and self.sync_seconds) if seconds]
        tick = min(intervals)
        next_source = time.monotonic() + self.poll_seconds
        while not self._stop.wait(tick):
            try:
                if self.shared is not None:
                    self.sync_shared_once()
                if self.poll_seconds > 0 and time.monotonic() >= next_source:
                    next_source = time.monotonic() + self.poll_seconds
                    self.poll_once()
            except Exception:  # noqa: BLE001 - a bad new artifact must not stop serving the old
                log.exception("model reload failed; still serving %s", self.served.uri)

    def start(self) -> None:
        wanted = self.poll_seconds > 0 or (self.shared is not None and self.sync_seconds > 0)
        if wanted and self._thread is None:
            self._thread = threading.Thread(target=self._poll_forever, name="model-poller", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        served, app, body = self.current
        kind = scope["type"]
        if kind == "http" and scope["path"] == "/model" and scope["method"] == "GET":
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        if kind == "http" and scope["path"] == "/schedule":
            await self._schedule(scope, receive, send)
            return
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        await app(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _read_body(receive: Any, limit: int) -> bytes | None:
    """The request body, None once it passes `limit` bytes (the rest is not read)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
