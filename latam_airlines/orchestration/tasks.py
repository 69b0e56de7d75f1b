"""The library calls behind the Airflow DAGs (dags/*.py), one function per task.

Each function takes plain locations (local paths or `s3://` URLs: every read and write goes
through `latam_airlines.io`) and returns a small JSON-able dict (what Airflow passes
between tasks: never a table), and is safe to retry: outputs are written whole (atomic file
and folder swaps), a retry rewrites the same bytes, and the outcome feed is idempotent per
flight. Locations are under `orchestration.bucket` (settings; `$LATAM_ORCHESTRATION__<KEY>`
overrides a key).

- yearly_anomalies: `newest_year` -> `yearly_anomaly_report` (`<yearly>/<year>/`: anomalies.csv,
  index.md, one chart per airport);
- retrain: `make_interim` -> `make_features` -> `retrain_challenger` (challenger, registry
  decision, decision JSON; a promotion is announced through Redis);
- daily_outcomes: `feed_planned_schedule` (the planned-schedule files of the run's day and the
  next `schedule_days - 1` days -> the champion's schedule book) then `feed_departures`
  (yesterday's departures file -> the champion's history); both published through Redis to
  every `latam serve`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from latam_airlines.errors import InputError

SCHEDULE_PREFIX = "schedule_"  # a day's planned schedule: <schedules>/schedule_<YYYY-MM-DD>.csv


def orchestration_settings(params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Settings `orchestration:` (params.yaml < $LATAM_ORCHESTRATION__<KEY>, settings.py)."""
    if params is None:
        from latam_airlines.settings import current

        params = current().as_params()
    return dict(params["orchestration"])


def location(settings: Mapping[str, Any], key: str) -> str:
    """`bucket/<prefix>` for a prefix key; a path key as it is (relative: to the project)."""
    from latam_airlines.settings import resolve

    value = str(settings[key])
    if key.endswith("_prefix"):
        bucket = str(settings["bucket"])
        root = bucket if "://" in bucket else str(resolve(bucket))
        return f"{root.rstrip('/')}/{value.strip('/')}"
    return value if "://" in value else str(resolve(value))


# ------------------------------------------------------------- yearly_anomalies
def newest_year(yearly: str) -> int:
    """The newest year with a flights file directly under `yearly` (InputError: none)."""
    from latam_airlines.anomalies.sources import locate_year

    chosen = locate_year(yearly, "latest").year
    if chosen is None:  # `yearly` is a single file: its rows decide (locate_year's contract)
        raise InputError("expected a folder of yearly files (flights_2017.csv, ...)", file=yearly)
    return int(chosen)


def yearly_anomaly_report(yearly: str, year: int) -> dict[str, Any]:
    """Airport-day table -> scores -> flags -> `<yearly>/<year>/` (anomalies.csv, index.md, one
    chart per scored airport; settings `anomalies:`), published whole: a retry replaces the
    folder, never half of it."""
    from latam_airlines.anomalies.run import run_anomaly_report
    from latam_airlines.io import filesystem

    run = run_anomaly_report(yearly, year, yearly)
    fs, root = filesystem(run.folder)
    charts = sorted(name.rsplit("/", 1)[-1] for name in fs.glob(f"{root.rstrip('/')}/*.png"))
    return {"year": run.year, "folder": str(run.folder), "flights": run.flights, "airports": run.airports,
            "anomalies": int(len(run.flagged)), "charts": charts}  # fmt: skip


# ------------------------------------------------------------- retrain
def make_interim(raw: str, interim: str) -> dict[str, Any]:
    """Raw file -> interim table (schema checks, calendar rules, targets), written atomically."""
    from latam_airlines.data import load_raw, make_dataset
    from latam_airlines.io import write_table

    table = make_dataset(load_raw(raw))
    write_table(table, interim)
    return {"interim": interim, "rows": int(len(table))}


def make_features(interim: str, features: str) -> dict[str, Any]:
    """Interim table -> processed feature table, written atomically."""
    from latam_airlines.features import build_features
    from latam_airlines.io import read_table, write_table

    table = build_features(read_table(interim))
    write_table(table, features)
    return {"features": features, "rows": int(len(table))}


def retrain_challenger(features: str, report: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Train a challenger on the feature table, decide champion/challenger with the MLflow
    registry (tracking/champion.py), write the decision JSON and announce a promotion to every
    `latam serve` through Redis. A retry after a finished try finds its decision for the same
    data and returns it (no second challenger)."""
    from latam_airlines.api.shared_state import publish_best_effort
    from latam_airlines.io import read_table
    from latam_airlines.models.training_data import data_fingerprint
    from latam_airlines.settings import current
    from latam_airlines.tracking.champion import retrain, retrain_train_options, write_decision
    from latam_airlines.tracking.runs import tracking_settings

    params = params or current().as_params()
    table = read_table(features)
    table.attrs["source"] = features
    previous = _read_json(report)
    if previous and previous.get("holdout", {}).get("data_fingerprint") == data_fingerprint(table):
        return previous | {"reused": True}
    decision = retrain(table, params, retrain_train_options(params))
    write_decision(decision, report)
    announced = None
    if decision.promote:
        uri = f"models:/{tracking_settings(params)['registered_model']}@champion"
        announced = publish_best_effort(
            f"the promotion of {uri} (version {decision.challenger_version})",
            lambda shared: shared.publish_model(uri, decision.challenger_version),
        )  # fmt: skip
    return decision.to_dict() | {"summary": decision.summary_line(), "announced": announced, "reused": False}


def _read_json(path: str) -> dict[str, Any] | None:
    """The JSON at `path` (local or URL); None when absent or unreadable (a retry starts over)."""
    from latam_airlines.io import exists, read_bytes

    try:
        return json.loads(read_bytes(path)) if exists(path) else None
    except (InputError, ValueError):
        return None


# ------------------------------------------------------------- daily_outcomes
def departures_file(departures: str, day: dt.date) -> str:
    """`<departures>/departures_<YYYY-MM-DD>.csv` (or .parquet): the day's operated flights."""
    from latam_airlines.io import exists, join

    for suffix in (".csv", ".csv.gz", ".parquet"):
        candidate = join(departures, f"departures_{day.isoformat()}{suffix}")
        if exists(candidate):
            return candidate
    raise InputError(
        f"no departures file for {day.isoformat()} yet (expected departures_{day.isoformat()}.csv)",
        file=departures,
    )  # fmt: skip


def feed_departures(departures: str, day: dt.date | str, champion: str) -> dict[str, Any]:
    """Feed `day`'s operated departures to the champion artifact (its recent-delay history) and
    publish the history to Redis; idempotent per flight, so a retry changes nothing more."""
    from latam_airlines.api.shared_state import feed_and_publish

    day = dt.date.fromisoformat(str(day)[:10])
    result = feed_and_publish(champion, departures_file(departures, day))
    return {"day": day.isoformat(), "champion": champion, "recorded": result.recorded,
            "outcomes_until": result.after, "was": result.before, "published": result.published}  # fmt: skip


def schedule_files(schedules: str, first: dt.date, days: int) -> list[str]:
    """`<schedules>/schedule_<YYYY-MM-DD>.csv` (or .csv.gz, .parquet) of each of `days` days from
    `first` that has one; InputError when none has (the schedule is not published yet)."""
    from latam_airlines.io import exists, join

    if days < 1:
        raise InputError("orchestration.schedule_days must be at least 1", value=days)
    found = []
    for offset in range(days):
        day = (first + dt.timedelta(days=offset)).isoformat()
        for suffix in (".csv", ".csv.gz", ".parquet"):
            candidate = join(schedules, f"{SCHEDULE_PREFIX}{day}{suffix}")
            if exists(candidate):
                found.append(candidate)
                break
    if not found:
        last = first + dt.timedelta(days=days - 1)
        raise InputError(
            f"no planned schedule for {first.isoformat()} to {last.isoformat()} yet "
            f"(expected schedule_{first.isoformat()}.csv)",
            file=schedules,
        )  # fmt: skip
    return found


def feed_planned_schedule(schedules: str, day: dt.date | str, champion: str, days: int) -> dict[str, Any]:
    """Feed the planned flights of `day` and the `days - 1` days after it (one file per day,
    those published) to the champion artifact's schedule book, and merge them into Redis's
    shared schedule; idempotent per flight, so a retry changes nothing more, and a file
    republished with retimed flights moves them. Every file is checked before anything is
    written. A champion reading no planned-schedule counts (train.stale_schedule: false) is left
    alone, and so is every champion while `schedules` holds no schedule file at all (a deployment
    that publishes none: its stale flights get the plain stale tier); the task says so and
    succeeds. Once files are published, a missing day is an error (not published yet: retry)."""
    from latam_airlines.api.shared_state import schedule_and_publish
    from latam_airlines.io.location import filesystem
    from latam_airlines.models import load_model
    from latam_airlines.models.schedule_feed import combine_schedules, read_schedule, reads_schedule

    day = dt.date.fromisoformat(str(day)[:10])
    if not reads_schedule(load_model(champion)):
        return {"day": day.isoformat(), "champion": champion, "recorded": 0,
                "skipped": "the champion reads no planned-schedule counts (train.stale_schedule: false)"}  # fmt: skip
    fs, root = filesystem(schedules)
    if not fs.glob(f"{root.rstrip('/')}/{SCHEDULE_PREFIX}*"):
        return {"day": day.isoformat(), "champion": champion, "recorded": 0,
                "skipped": f"no planned schedule is published under {schedules}: stale flights get the "
                           "plain stale tier"}  # fmt: skip
    files = schedule_files(schedules, day, int(days))
    flights = combine_schedules([read_schedule(path) for path in files], schedules)
    result = schedule_and_publish(champion, flights, ", ".join(files))
    return {"day": day.isoformat(), "files": files, "champion": champion, "recorded": result.flights,
            "new": result.change.new, "replaced": result.change.replaced, "unchanged": result.change.unchanged,
            "schedule": result.state, "published": result.published}  # fmt: skip
