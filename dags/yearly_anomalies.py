"""yearly_anomalies (@yearly, and manual): the newest yearly flights file under the yearly prefix
-> airport-day table -> scores -> anomalies.csv + one chart per airport under `<prefix>/<year>/`.
Thin: each task is one call of latam_airlines.orchestration.tasks."""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Param, dag, task

from latam_airlines.orchestration import tasks as jobs

SETTINGS = jobs.orchestration_settings()


@dag(
    schedule=SETTINGS["schedules"]["yearly_anomalies"],
    start_date=pendulum.datetime(2017, 1, 1, tz="UTC"),  # the shipped data's year (manual runs of it)
    catchup=False,
    max_active_runs=1,
    tags=["latam", "anomalies"],
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=5)},
    params={
        "yearly": Param(
            jobs.location(SETTINGS, "yearly_prefix"),
            type="string",
            description="Folder (local or s3://) of flights_<year> files",
        )
    },  # fmt: skip
)
def yearly_anomalies() -> None:
    @task
    def newest_year(**context) -> int:
        return jobs.newest_year(context["params"]["yearly"])

    @task
    def anomaly_report(year: int, **context) -> dict:
        return jobs.yearly_anomaly_report(context["params"]["yearly"], year)

    anomaly_report(newest_year())


yearly_anomalies()
