"""Where the served model comes from, and swapping a new one in while serving.

A model source is a file (as `latam train` writes) or a registry URI (`models:/name@champion`).
- Registry unreachable at start: serve the local copy of the alias (models/champion.joblib,
  written whenever the server loads the alias from the registry and on promotion); with no copy,
  stop with one clear line (InputError, exit 2). GET /model says which (`source`, `version`).
- While serving, a thread polls the source every `poll_seconds` (the alias's version, or the
  file's modification: `latam outcomes` updates a file in place) and, on a change, loads the new
  model and builds its app off the event loop, then replaces one reference: requests already
  in flight finish on the old app, the next ones go to the new. No request is dropped.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from latam_airlines.errors import InputError
from latam_airlines.models import DelayModel, load_model

log = logging.getLogger("latam_airlines.api")

POLL_SECONDS_ENV = "LATAM_POLL_SECONDS"  # read by settings.py as serve.poll_seconds


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
    ) -> None:  # fmt: skip
        self.source = source
        self.build = build
        from latam_airlines.settings import current, filled

        (self.poll_seconds,) = filled(current().serve, poll_seconds=poll_seconds)
        self._info = info or (lambda model: {"version": model.metadata.get("version")})
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.swaps = 0
        self._install(source.load())

    def _install(self, served: ServedModel) -> None:
        app = self.build(served.model)
        body = orjson.dumps({**self._info(served.model), **served.info()},
                            option=orjson.OPT_SERIALIZE_NUMPY, default=str)  # fmt: skip
        # One tuple, one assignment: a request sees the old (app, body) or the new, never a mix.
        self.current = (served, app, body)

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
        served = self.source.poll(self.served)
        if served is None:
            return False
        previous = self.served
        self._install(served)
        self.swaps += 1
        log.warning(
            "now serving %s (version %s), was %s (version %s)",
            served.uri, served.version or served.model.metadata.get("version"),
            previous.uri, previous.version or previous.model.metadata.get("version"),
        )  # fmt: skip
        return True

    def _poll_forever(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.poll_once()
            except Exception:  # noqa: BLE001 - a bad new artifact must not stop serving the old
                log.exception("model reload failed; still serving %s", self.served.uri)

    def start(self) -> None:
        if self.poll_seconds > 0 and self._thread is None:
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
