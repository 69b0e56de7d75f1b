"""daily_outcomes (@daily): yesterday's operated departures -> the champion's recent-delay history,
published through Redis so every `latam serve` worker uses it within a second. A run at day D
(its logical date: Airflow 3 schedules @daily at D 00:00; a manual run: now) feeds day D-1;
`day` overrides it.
Thin: one call of latam_airlines.orchestration.tasks."""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Param, dag, task

from latam_airlines.orchestration import tasks as jobs

SETTINGS = jobs.orchestration_settings()


@dag(
    schedule=SETTINGS["schedules"]["daily_outcomes"],
    start_date=pendulum.datetime(2017, 1, 1, tz="UTC"),  # the shipped data's year (manual runs of it)
    catchup=False,
    max_active_runs=1,
    tags=["latam", "model"],
    default_args={"retries": 3, "retry_delay": dt.timedelta(minutes=15)},
    params={
        "departures": Param(
            jobs.location(SETTINGS, "departures_prefix"),
            type="string",
            description="Folder of departures_<YYYY-MM-DD>.csv files",
        ),
        "champion": Param(
            jobs.location(SETTINGS, "champion_path"),
            type="string",
            description="The served champion artifact to feed",
        ),
        "day": Param(
            None, type=["null", "string"], description="YYYY-MM-DD (default: the day before the run)"
        ),
    },  # fmt: skip
)
def daily_outcomes() -> None:
    @task
    def feed_departures(**context) -> dict:
        params = context["params"]
        when = context.get("logical_date") or context["dag_run"].run_after
        day = params["day"] or when.date() - dt.timedelta(days=1)
        return jobs.feed_departures(params["departures"], day, params["champion"])

    feed_departures()


daily_outcomes()
