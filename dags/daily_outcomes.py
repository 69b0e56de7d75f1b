"""daily_outcomes (@daily): the planned schedule of the coming days -> the champion's schedule
book, then yesterday's operated departures -> its recent-delay history; both published through
Redis so every `latam serve` worker uses them within a second. A run at day D (its logical date:
Airflow 3 schedules @daily at D 00:00; a manual run: now) feeds the planned flights of D to
D + schedule_days - 1 (the files published so far) and the departures of D-1; `day` overrides D-1.
The two tasks run one after the other (both rewrite the artifact); the departures are fed even
when no schedule is published yet.
Thin: one call of latam_airlines.orchestration.tasks per task."""

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
        "schedules": Param(
            jobs.location(SETTINGS, "schedule_prefix"),
            type="string",
            description="Folder of schedule_<YYYY-MM-DD>.csv files (planned flights leaving SCL)",
        ),
        "schedule_days": Param(
            SETTINGS["schedule_days"],
            type="integer",
            minimum=1,
            description="Days of planned schedule fed, from the run's day",
        ),
    },  # fmt: skip
)
def daily_outcomes() -> None:
    @task
    def feed_planned_schedule(**context) -> dict:
        params = context["params"]
        when = context.get("logical_date") or context["dag_run"].run_after
        return jobs.feed_planned_schedule(
            params["schedules"], when.date(), params["champion"], params["schedule_days"]
        )

    @task(trigger_rule="all_done")
    def feed_departures(**context) -> dict:
        params = context["params"]
        when = context.get("logical_date") or context["dag_run"].run_after
        day = params["day"] or when.date() - dt.timedelta(days=1)
        return jobs.feed_departures(params["departures"], day, params["champion"])

    feed_planned_schedule() >> feed_departures()


daily_outcomes()
