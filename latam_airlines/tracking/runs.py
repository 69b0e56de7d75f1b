"""Best-effort MLflow runs: params, metrics, figures, data fingerprint, library versions.

Where runs go: $MLFLOW_TRACKING_URI, else params `tracking.uri`, else the embedded store
`sqlite:///<project>/mlflow.db` with artifacts under `<project>/mlartifacts` (both git-ignored),
which needs no server. $LATAM_TRACKING=0 (or params `tracking.enabled: false`) turns it off.

Tracking never fails a command: the first error (server down, mlflow not installed, ...) is
reported once as a warning and every later call does nothing.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger("latam_airlines.tracking")

TRACKING_ENV = "LATAM_TRACKING"
URI_ENV = "MLFLOW_TRACKING_URI"
# MLflow retries an unreachable server for minutes by default; a command should not wait that long.
_HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",  # no progress bars inside our commands' output
}
MAX_PARAM_LENGTH = 6000  # MLflow's limit on a parameter value


def tracking_settings(params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The `tracking:` section of `params` (a settings dict, `Settings.as_params()`), else of the
    current settings (params.yaml < $LATAM_TRACKING__<KEY>, or the older $LATAM_TRACKING_<KEY>)."""
    if params is None:
        from latam_airlines.settings import current

        return current().tracking.model_dump()
    return dict(params["tracking"])


def tracking_uri(settings: Mapping[str, Any] | None = None) -> str:
    """$MLFLOW_TRACKING_URI, else params tracking.uri, else the embedded SQLite store."""
    from latam_airlines.settings import resolve

    settings = settings or tracking_settings()
    uri = os.environ.get(URI_ENV) or settings.get("uri")
    if uri:
        return str(uri)
    return f"sqlite:///{resolve(settings['database'])}"


def artifact_location(settings: Mapping[str, Any]) -> str | None:
    """Where a new experiment of the embedded store keeps artifacts (a server decides its own)."""
    from latam_airlines.settings import resolve

    if tracking_uri(settings).startswith("sqlite:"):
        return resolve(settings["artifacts"]).as_uri()
    return None


def server_reachable(uri: str, timeout: float = 2.0) -> str | None:
    """None when an http(s) tracking server answers /health (or the store is not a server);
    else why not."""
    if not uri.startswith(("http://", "https://")):
        return None
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout):  # noqa: S310
            return None
    except (urllib.error.URLError, OSError) as error:
        return f"{uri} does not answer ({getattr(error, 'reason', error)})"


def connect(settings: Mapping[str, Any]):
    """Import mlflow, point it at the tracking store, return (mlflow, experiment id); raises."""
    for name, value in _HTTP_DEFAULTS.items():
        os.environ.setdefault(name, value)
    uri = tracking_uri(settings)
    problem = server_reachable(uri)
    if problem:
        raise ConnectionError(problem)
    import mlflow

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(settings["experiment"])
    if experiment is None:
        experiment_id = client.create_experiment(
            settings["experiment"], artifact_location=artifact_location(settings)
        )
    else:
        experiment_id = experiment.experiment_id
    mlflow.set_experiment(experiment_id=experiment_id)
    return mlflow, experiment_id


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def numeric_metrics(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """The finite numbers of a (nested) metrics mapping, flattened."""
    import math

    metrics = {}
    for name, value in flatten(mapping, prefix).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if math.isfinite(float(value)):
            metrics[name] = float(value)
    return metrics


@functools.lru_cache(maxsize=1)
def library_versions() -> dict[str, str]:
    from importlib import metadata

    versions = {}
    for package in ("latam_airlines", "scikit-learn", "xgboost", "lightgbm", "pandas", "numpy", "mlflow"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return versions


class Tracker:
    """One command's MLflow runs; every method is a no-op once tracking is off or failed.

    with Tracker().run("train", tags={...}) as tracker:
        tracker.log_params({...}); tracker.log_metrics({...})
    """

    def __init__(self, params: Mapping[str, Any] | None = None, enabled: bool | None = None) -> None:
        self.settings = tracking_settings(params)
        if enabled is None:
            enabled = bool(self.settings["enabled"]) and os.environ.get(TRACKING_ENV, "1") != "0"
        self.enabled = enabled
        self.mlflow: Any = None
        self.run_id: str | None = None
        self.seconds = 0.0  # wall time spent in tracking calls (the cost of tracking)
        self._failed = False
        self._connecting: threading.Thread | None = None
        self._connect_error: BaseException | None = None

    @property
    def active(self) -> bool:
        return self.enabled and not self._failed

    @property
    def uri(self) -> str:
        return tracking_uri(self.settings)

    def _fail(self, error: BaseException) -> None:
        if not self._failed:
            log.warning(
                "MLflow tracking is off for this command: %s (%s); carrying on without it",
                error if str(error) else type(error).__name__,
                self.uri,
            )
        self._failed = True

    @contextlib.contextmanager
    def _timed(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - started

    def call(self, function_name: str, *args: Any, **kwargs: Any) -> Any:
        """mlflow.<function_name>(*args, **kwargs), or None when tracking is off or it fails."""
        if not self.active or self.mlflow is None:
            return None
        with self._timed():
            try:
                return getattr(self.mlflow, function_name)(*args, **kwargs)
            except Exception as error:  # noqa: BLE001 - tracking must never fail the command
                self._fail(error)
                return None

    def connect_in_background(self) -> Tracker:
        """Import mlflow and open the store in a thread while the command works (both take
        seconds: the import, the store's schema check, MLflow's scan of installed packages
        when it logs a model); `run` waits for it. Returns self."""
        if self.active and self.mlflow is None and self._connecting is None:
            self._connecting = threading.Thread(target=self._connect, name="mlflow-connect", daemon=True)
            self._connecting.start()
        return self

    def _connect(self) -> None:
        try:
            self.mlflow, _ = connect(self.settings)
        except Exception as error:  # noqa: BLE001 - reported by the caller's thread
            self._connect_error = error
            return
        library_versions()
        with contextlib.suppress(Exception):  # a warm-up only: MLflow builds this map on log_model
            from mlflow.utils.requirements_utils import _init_modules_to_packages_map

            _init_modules_to_packages_map()

    def _ensure_connected(self) -> None:
        if not self.active or self.mlflow is not None:
            return
        with self._timed():
            if self._connecting is None:
                self._connect()
            else:
                self._connecting.join()
        if self._connect_error is not None:
            self._fail(self._connect_error)

    @contextlib.contextmanager
    def run(
        self, name: str, tags: Mapping[str, str] | None = None, nested: bool = False
    ) -> Iterator[Tracker]:
        """An MLflow run around the block (FAILED if the block raises); yields self."""
        self._ensure_connected()
        started = self.call("start_run", run_name=name, nested=nested, tags=dict(tags or {}))
        previous, self.run_id = self.run_id, getattr(getattr(started, "info", None), "run_id", None)
        status = "FINISHED"
        try:
            yield self
        except BaseException:
            status = "FAILED"
            raise
        finally:
            if started is not None:
                self.call("end_run", status=status)
            self.run_id = previous

    # ------------------------------------------------------------- what a run holds
    def log_params(self, params: Mapping[str, Any]) -> None:
        flat = {
            name: ("None" if value is None else str(value))[:MAX_PARAM_LENGTH]
            for name, value in flatten(params).items()
        }
        if flat:
            self.call("log_params", flat)

    def log_metrics(self, metrics: Mapping[str, Any], prefix: str = "", step: int | None = None) -> None:
        numbers = numeric_metrics(metrics, prefix)
        if numbers:
            self.call("log_metrics", numbers, step=step)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        self.call("set_tags", {name: str(value) for name, value in tags.items()})

    def log_dict(self, payload: Mapping[str, Any], artifact_file: str) -> None:
        self.call("log_dict", dict(payload), artifact_file)

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        if Path(path).exists():
            self.call("log_artifact", str(path), artifact_path)

    def log_data(self, table: Any, context: str = "training", fingerprint: str | None = None) -> None:
        """The table's fingerprint, source and size (params + tags; not the rows)."""
        if not self.active:
            return
        from latam_airlines.models.training_data import data_fingerprint

        fingerprint = fingerprint or data_fingerprint(table)
        source = table.attrs.get("source") or "in-memory table"
        self.log_params({f"data.{context}.source": source, f"data.{context}.rows": len(table)})
        self.set_tags({f"data.{context}.fingerprint": fingerprint})

    def log_environment(self) -> None:
        self.set_tags({f"library.{name}": version for name, version in library_versions().items()})
