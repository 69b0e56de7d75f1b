"""The model registry: one registered name, versions carrying metrics and data fingerprint,
aliases `champion` and `challenger`; a local copy of the served alias as the serving fallback.

Registry calls raise InputError (exit 2) when the registry cannot be reached or a version or
alias does not exist: unlike run tracking, these commands cannot do their job without it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shutil
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from latam_airlines.errors import InputError
from latam_airlines.tracking.runs import Tracker, connect, numeric_metrics, tracking_settings, tracking_uri

CHAMPION = "champion"
CHALLENGER = "challenger"
ALIASES = (CHAMPION, CHALLENGER)
MODEL_ARTIFACT = "model"  # the run's artifact folder holding the pyfunc model
_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[A-Za-z0-9_\-]+)|/(?P<version>\d+))$")
# Version tags worth showing in `latam models` (the full metrics are the run's).
SHOWN_METRICS = ("roc_auc", "pr_auc", "f1_delayed", "brier")


@dataclass(frozen=True)
class ModelRef:
    """A `models:/name@alias` or `models:/name/version` URI, parsed."""

    name: str
    alias: str | None = None
    version: str | None = None

    @property
    def uri(self) -> str:
        return f"models:/{self.name}@{self.alias}" if self.alias else f"models:/{self.name}/{self.version}"


def is_registry_uri(spec: str | Path) -> bool:
    return str(spec).startswith("models:/")


def parse_uri(spec: str) -> ModelRef:
    match = _URI.match(str(spec))
    if not match:
        raise InputError("expected models:/<name>@<alias> or models:/<name>/<version>", value=str(spec))
    return ModelRef(match["name"], match["alias"], match["version"])


def client(settings: Mapping[str, Any] | None = None):
    """An MlflowClient on the tracking store; InputError if it cannot be reached."""
    settings = settings or tracking_settings()
    try:
        mlflow, _ = connect(settings)
    except ModuleNotFoundError:
        raise InputError('the registry needs MLflow: pip install -e ".[mlflow]"') from None
    except Exception as error:  # noqa: BLE001 - any failure to reach it is the same to a user
        raise InputError(
            f"the model registry cannot be reached: {error}", value=tracking_uri(settings)
        ) from None
    return mlflow.MlflowClient()


def _registry_call(function, *args: Any, what: str, **kwargs: Any) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return function(*args, **kwargs)
    except MlflowException as error:
        code = getattr(error, "error_code", "")
        if code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"):
            raise InputError(f"{what}: not in the registry") from None
        raise InputError(f"{what}: the registry failed ({str(error).splitlines()[0]})") from None


# ----------------------------------------------------------------- logging a model
def version_tags(model: Any) -> dict[str, str]:
    """What a registered version carries: the model's version string, data fingerprint and
    holdout metrics (tags, so `latam models` and the UI show them without opening the run)."""
    tags = {
        "model_version": str(model.metadata.get("version")),
        "model_type": str(model.metadata.get("model")),
        "data_fingerprint": str(model.metadata.get("data_fingerprint")),
        "rows": str(model.metadata.get("rows")),
    }
    for name, value in numeric_metrics(model.metrics.get("holdout", {})).items():
        if name in SHOWN_METRICS or name in ("threshold", "rows"):
            tags[f"holdout.{name}"] = f"{value:.6g}"
    return tags


def log_delay_model(tracker: Tracker, model: Any, register: bool = True) -> str | None:
    """Log `model` in the active run as a pyfunc model (signature, input example) and register it
    under params `tracking.registered_model`; returns the new version (None if tracking is off)."""
    if not tracker.active or tracker.run_id is None:
        return None
    with tracker._timed():
        try:
            return _log_delay_model(tracker, model, register)
        except Exception as error:  # noqa: BLE001 - tracking must never fail the command
            tracker._fail(error)
            return None


def _pip_requirements(model: Any) -> list[str]:
    versions = model.metadata.get("library_versions", {})
    names = {"sklearn": "scikit-learn", "xgboost": "xgboost", "pandas": "pandas", "numpy": "numpy"}
    requirements = [f"{names[key]}=={value}" for key, value in versions.items() if key in names]
    from latam_airlines.tracking.runs import library_versions

    extra = library_versions()
    requirements += [f"{name}=={extra[name]}" for name in ("mlflow", "lightgbm") if name in extra]
    return requirements


@contextlib.contextmanager
def _quiet_mlflow():
    """Silence two notes MLflow prints on every log_model that do not apply here: the API's MES
    is an integer by contract, and the pickled wrapper is our own installed class."""
    pyfunc_log = logging.getLogger("mlflow.pyfunc")
    level = pyfunc_log.level
    pyfunc_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=".*Inferred schema contains integer", category=UserWarning
            )
            yield
    finally:
        pyfunc_log.setLevel(level)


def _log_delay_model(tracker: Tracker, model: Any, register: bool) -> str | None:
    import mlflow
    from mlflow.models import infer_signature

    from latam_airlines.tracking.pyfunc import (
        ARTIFACT_KEY,
        INPUT_EXAMPLE,
        DelayModelPyfunc,
        delay_answers,
        input_schema,
    )

    name = tracker.settings["registered_model"]
    example = INPUT_EXAMPLE.copy()
    output = delay_answers(model, example)  # what the pyfunc model answers: its signature
    with _quiet_mlflow():
        signature = infer_signature(example, output)
    signature.inputs = input_schema()  # every field of the API's record, three required
    with tempfile.TemporaryDirectory() as folder, _quiet_mlflow():
        artifact = model.save(Path(folder) / "model.joblib")
        info = mlflow.pyfunc.log_model(
            name=MODEL_ARTIFACT,
            python_model=DelayModelPyfunc(),
            artifacts={ARTIFACT_KEY: str(artifact)},
            signature=signature,
            input_example=example,
            pip_requirements=_pip_requirements(model),
        )
    if not register:
        return None
    # One call registers the version with its tags (log_model's own registration would need
    # one more round trip per tag).
    registered = mlflow.register_model(
        info.model_uri, name, await_registration_for=30, tags=version_tags(model)
    )
    return str(registered.version)


# ----------------------------------------------------------------- reading the registry
@dataclass
class VersionInfo:
    version: str
    aliases: list[str]
    run_id: str | None
    created: int
    tags: dict[str, str]


def list_versions(settings: Mapping[str, Any] | None = None) -> list[VersionInfo]:
    """Every version of the registered model, newest first (empty when none is registered)."""
    settings = settings or tracking_settings()
    registry = client(settings)
    name = settings["registered_model"]
    versions = _registry_call(
        registry.search_model_versions, f"name='{name}'", what=f"registered model {name!r}"
    )
    aliases: dict[str, list[str]] = {}
    try:
        registered = registry.get_registered_model(name)
        for alias, version in (registered.aliases or {}).items():
            aliases.setdefault(str(version), []).append(alias)
    except Exception:  # noqa: BLE001 - no registered model yet: no aliases
        pass
    rows = [
        VersionInfo(str(v.version), sorted(aliases.get(str(v.version), [])), v.run_id,
                    int(v.creation_timestamp or 0), dict(v.tags or {}))
        for v in versions
    ]  # fmt: skip
    return sorted(rows, key=lambda row: int(row.version), reverse=True)


def alias_version(alias: str, settings: Mapping[str, Any] | None = None, registry: Any = None) -> str | None:
    """The version `alias` points at, None if the alias is not set."""
    from mlflow.exceptions import MlflowException

    settings = settings or tracking_settings()
    registry = registry or client(settings)
    try:
        return str(registry.get_model_version_by_alias(settings["registered_model"], alias).version)
    except MlflowException:
        return None


def set_alias(version: str, alias: str = CHAMPION, settings: Mapping[str, Any] | None = None) -> str | None:
    """Point `alias` at `version` (InputError if the version does not exist); returns the version
    the alias pointed at before (None if unset)."""
    settings = settings or tracking_settings()
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]*", alias or "") or alias.lower().startswith("latest"):
        raise InputError("an alias is a name such as champion or challenger", value=alias)
    if not str(version).isdigit():
        raise InputError("a model version is a number (see `latam models`)", value=version)
    registry = client(settings)
    name = settings["registered_model"]
    _registry_call(registry.get_model_version, name, str(version), what=f"version {version} of {name!r}")
    previous = alias_version(alias, settings, registry)
    _registry_call(registry.set_registered_model_alias, name, alias, str(version), what=f"alias {alias!r}")
    return previous


def download_model(
    ref: ModelRef, folder: str | Path, settings: Mapping[str, Any] | None = None
) -> tuple[Any, str, Path]:
    """(DelayModel, registry version, its joblib file downloaded under `folder`)."""
    from latam_airlines.models import load_model

    settings = settings or tracking_settings()
    registry = client(settings)
    if ref.alias:
        version = alias_version(ref.alias, settings, registry)
        if version is None:
            raise InputError(f"{ref.name!r} has no version with alias {ref.alias!r}", value=ref.uri)
    else:
        version = ref.version
    source = _registry_call(
        registry.get_model_version_download_uri, ref.name, version, what=f"version {version} of {ref.name!r}"
    )
    import mlflow.artifacts

    try:
        mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=str(folder))
    except Exception as error:  # noqa: BLE001 - an artifact store that cannot be read
        raise InputError(f"cannot download version {version} of {ref.name!r}: {error}") from None
    found = sorted(Path(folder).rglob("*.joblib"))
    if not found:
        raise InputError("the registered model holds no DelayModel artifact", value=f"{ref.name}/{version}")
    return load_model(found[0]), str(version), found[0]


# ----------------------------------------------------------------- the local fallback copy
def cache_path(ref: ModelRef, settings: Mapping[str, Any] | None = None) -> Path:
    """models/<alias>.joblib (models/champion.joblib for the champion), or models/<name>-v<N>.joblib."""
    from latam_airlines.settings import resolve

    settings = settings or tracking_settings()
    stem = ref.alias if ref.alias else f"{ref.name}-v{ref.version}"
    return resolve(settings["cache_dir"]) / f"{stem}.joblib"


def cache_model(
    artifact: Path, ref: ModelRef, version: str, settings: Mapping[str, Any] | None = None
) -> Path:
    """Copy a downloaded artifact to its cache path (atomically) with a JSON note of its version."""
    from latam_airlines.io import atomic_path, write_text

    target = cache_path(ref, settings)
    with atomic_path(target) as temporary:
        shutil.copyfile(artifact, temporary)
    note = {"uri": ref.uri, "name": ref.name, "version": version}
    write_text(json.dumps(note) + "\n", target.with_suffix(".json"))
    return target


def cached_version(path: Path) -> str | None:
    note = path.with_suffix(".json")
    try:
        return str(json.loads(note.read_text(encoding="utf-8")).get("version"))
    except (OSError, ValueError):
        return None


def cache_alias(alias: str = CHAMPION, settings: Mapping[str, Any] | None = None) -> Path | None:
    """Refresh the local copy of `alias` from the registry (after a promotion); None on failure."""
    settings = settings or tracking_settings()
    ref = ModelRef(settings["registered_model"], alias=alias)
    with tempfile.TemporaryDirectory(prefix="latam_model_") as folder:
        try:
            _, version, artifact = download_model(ref, folder, settings)
        except InputError:
            return None
        return cache_model(artifact, ref, version, settings)
