"""retrain (@monthly, and manual): raw -> interim -> features in the bucket -> challenger ->
champion/challenger decision with the MLflow registry -> decision report (a promotion reaches
every `latam serve` through Redis). Thin: each task is one call of latam_airlines.orchestration.tasks."""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Param, dag, task

from latam_airlines.orchestration import tasks as jobs

SETTINGS = jobs.orchestration_settings()
TRAINING = jobs.location(SETTINGS, "training_prefix")


@dag(
    schedule=SETTINGS["schedules"]["retrain"],
    start_date=pendulum.datetime(2017, 1, 1, tz="UTC"),  # the shipped data's year (manual runs of it)
    catchup=False,
    max_active_runs=1,
    tags=["latam", "model"],
    default_args={"retries": 1, "retry_delay": dt.timedelta(minutes=10)},
    params={
        "raw": Param(jobs.location(SETTINGS, "raw_path"), type="string", description="Raw flights file"),
        "training": Param(TRAINING, type="string", description="Folder for interim, features and the report"),
    },
)
def retrain() -> None:
    @task
    def make_interim(**context) -> str:
        folder = context["params"]["training"]
        return jobs.make_interim(context["params"]["raw"], f"{folder}/interim.parquet")["interim"]

    @task
    def make_features(interim: str, **context) -> str:
        return jobs.make_features(interim, f"{context['params']['training']}/features.parquet")["features"]

    @task
    def challenger_and_decision(features: str, **context) -> dict:
        report = f"{context['params']['training']}/retrain_decision.json"
        return jobs.retrain_challenger(features, report)

    challenger_and_decision(make_features(make_interim()))


retrain()
