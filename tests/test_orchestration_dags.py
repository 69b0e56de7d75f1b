"""The Airflow DAGs (dags/) on a real Airflow 3: a temporary AIRFLOW_HOME with SQLite, `airflow db
migrate`, a DagBag import check, and `dag.test()` of each DAG end to end on the shipped data,
asserting what lands in the bucket: a fresh bucket per test on the session's moto S3 server
(conftest `s3_bucket`), inputs uploaded and outputs read back through latam_airlines.io. Airflow
runs in one child process for the module (its settings are read at import; service_servers.
AirflowChild), each request given its test's environment (the AWS_* variables pointing at moto
included)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from service_servers import AirflowChild

# Looked up, not imported: Airflow runs in child processes, and importing it here (its
# configuration, SQLAlchemy, jsonschema) would cost every collection, the fast loop's included.
if importlib.util.find_spec("airflow") is None:
    pytest.skip(
        'the DAG tests need the [airflow] extra: pip install -e ".[airflow]"', allow_module_level=True
    )

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str) -> Iterator[AirflowChild]:
    """The module's Airflow child (service_servers.AirflowChild) on a temporary AIRFLOW_HOME with
    SQLite, reading dags/, migrated by `airflow db migrate` in it; its environment carries the
    AWS_* variables of the moto server (set by `s3_endpoint`), a test adds its bucket."""
    home = tmp_path_factory.mktemp("airflow_home")
    environment = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "LATAM_TRACKING_DATABASE": str(home / "mlflow.db"),
        "LATAM_TRACKING_ARTIFACTS": str(home / "mlartifacts"),
        "LATAM_TRACKING_CACHE_DIR": str(home / "models"),
        "MPLBACKEND": "Agg",
    }
    environment.pop("LATAM_REDIS_URL", None)
    environment.pop("MLFLOW_TRACKING_URI", None)
    child = AirflowChild(home / "airflow_child.log", environment)
    try:
        child.start()
        child.run(MIGRATE)
        yield child
    finally:
        child.stop()


# The `airflow db migrate` command, run by Airflow's own entry point in the child.
MIGRATE = """
import sys
from airflow.__main__ import main

sys.argv = ["airflow", "db", "migrate"]
main()
"""


DAG_TEST = """
import datetime as dt
from airflow.dag_processing.dagbag import DagBag

bag = DagBag()  # parsed with this request's environment (the DAGs read their settings at parse)
dag = bag.get_dag({dag_id!r})
{probe}
results = []
for attempt in range({runs}):  # several runs in one request: a retry of the same logical date
    run = dag.test(logical_date=dt.datetime.fromisoformat({logical_date!r}).replace(tzinfo=dt.timezone.utc),
                   run_conf={run_conf!r})
    results.append({{"state": str(run.state), "tasks": {{ti.task_id: str(ti.state) for ti in run.get_task_instances()}},
                     "probe": probe()}})
result = results
"""


TASKS = {
    "yearly_anomalies": {"newest_year", "anomaly_report"},
    "retrain": {"make_interim", "make_features", "challenger_and_decision"},
    "daily_outcomes": {"feed_planned_schedule", "feed_departures"},
}


def dag_test(
    airflow: AirflowChild,
    dag_id: str,
    environment: dict[str, str],
    logical_date: str,
    run_conf: dict | None = None,
    runs: int = 1,
    probe: str = "def probe(): return None",
) -> list[dict]:
    """`runs` successive `dag.test()` of `dag_id` in the Airflow child with `environment`; `probe`
    (Python source defining `probe()`, called in the child after each run) gives each run's "probe"."""
    code = DAG_TEST.format(dag_id=dag_id, logical_date=logical_date, run_conf=run_conf or {}, runs=runs,
                           probe=probe)  # fmt: skip
    results = airflow.run(code, environment)
    assert len(results) == runs, results
    for result in results:
        assert result["state"].endswith("success"), result
        assert set(result["tasks"]) == TASKS[dag_id], result  # every task ran (none left unscheduled)
        assert all(state.endswith("success") for state in result["tasks"].values()), result
    return results


@pytest.mark.slow  # `airflow db migrate` and Airflow's import in a child: tens of seconds
def test_dagbag_imports_every_dag_without_errors(airflow: AirflowChild) -> None:
    result = airflow.run(
        """
        from airflow.dag_processing.dagbag import DagBag
        bag = DagBag()
        result = {"errors": {str(k): str(v) for k, v in bag.import_errors.items()},
                  "dags": {d: sorted(bag.get_dag(d).task_ids) for d in bag.dag_ids},
                  "schedules": {d: str(bag.get_dag(d).timetable.expression) for d in bag.dag_ids}}
        """
    )
    assert result["errors"] == {}
    assert {dag: set(tasks) for dag, tasks in result["dags"].items()} == TASKS
    assert result["schedules"]["daily_outcomes"] == "0 0 * * *"


def in_bucket(environment: dict[str, str], bucket: str) -> dict[str, str]:
    assert environment["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")  # moto, never AWS
    return environment | {"LATAM_ORCHESTRATION__BUCKET": bucket}


def upload(source: Path, url: str) -> None:
    from latam_airlines.io import write_bytes

    write_bytes(source.read_bytes(), url)


@pytest.mark.slow
def test_yearly_anomalies_writes_the_newest_years_report_into_the_bucket(
    airflow: AirflowChild, s3_bucket: str, scl_raw_path: Path
) -> None:
    from latam_airlines.datasets import SCL_DIR
    from latam_airlines.io import exists, filesystem, join, read_bytes, read_table

    yearly = join(s3_bucket, "yearly")
    upload(SCL_DIR.parent / "us2001" / "flights_2001_sample.parquet", join(yearly, "flights_2001.parquet"))
    upload(scl_raw_path, join(yearly, "flights_2017.csv.gz"))
    dag_test(airflow, "yearly_anomalies", in_bucket(airflow.environment, s3_bucket), "2025-01-01")
    report = join(yearly, "2017")
    table = read_table(join(report, "anomalies.csv"))
    assert len(table) > 0 and set(table["airport"]) >= {"SCFA"}
    scored = set(table.loc[table["score"].notna(), "airport"].map(str))
    fs, root = filesystem(report)
    charts = {name.rsplit("/", 1)[-1].removesuffix(".png") for name in fs.glob(f"{root}/*.png")}
    assert charts and charts == scored  # one chart per scored airport
    assert read_bytes(join(report, "SCFA.png")).startswith(b"\x89PNG")
    assert "2017" in read_bytes(join(report, "index.md")).decode()
    assert not exists(join(yearly, "2001"))  # only the newest year
    assert not exists(join(yearly, ".builds"))  # the staging prefix is gone


@pytest.mark.slow
def test_retrain_builds_features_in_the_bucket_registers_a_challenger_and_decides(
    airflow: AirflowChild, s3_bucket: str, scl_raw_path: Path
) -> None:
    from latam_airlines.io import join, read_bytes, read_table
    from latam_airlines.models.training_data import data_fingerprint

    raw = join(s3_bucket, "raw", "flights_2017.csv.gz")
    upload(scl_raw_path, raw)
    training = join(s3_bucket, "training")
    # One threshold fold (as the shared test models): what is asserted is the pipeline, not the fit.
    environment = in_bucket(airflow.environment, s3_bucket) | {
        "LATAM_ORCHESTRATION__RAW_PATH": raw,
        "LATAM_TRAIN__THRESHOLD_FOLDS": "1",
    }
    dag_test(airflow, "retrain", environment, "2025-01-01")
    features = read_table(join(training, "features.parquet"))
    assert len(features) == len(read_table(join(training, "interim.parquet"))) > 10_000
    decision = json.loads(read_bytes(join(training, "retrain_decision.json")))
    assert decision["promote"] is True and decision["champion"] is None  # the first champion
    assert decision["challenger_version"] == "1"
    assert decision["holdout"]["data_fingerprint"] == data_fingerprint(features)  # trained on the bucket's
    assert 0 < decision["holdout"]["rows"] < len(features) and decision["challenger"]["roc_auc"] > 0.5
    assert decision["holdout"]["data_source"] == join(training, "features.parquet")
    # The registry's champion stays with MLflow (artifact store) and its local cache.
    assert Path(airflow.environment["LATAM_TRACKING_CACHE_DIR"], "champion.joblib").exists()


def new_years_day_departures(scl_raw: pd.DataFrame) -> bytes:
    """Departures of 2018-01-01 as a raw CSV: the sample's December 30, moved two days on."""
    day = scl_raw[scl_raw["Fecha-I"].str.startswith("2017-12-30")].copy()
    for column in ("Fecha-I", "Fecha-O"):
        day[column] = (pd.to_datetime(day[column]) + pd.DateOffset(days=2)).dt.strftime("%Y-%m-%d %H:%M:%S")
    day["AÑO"], day["MES"], day["DIA"] = 2018, 1, 1
    return day.drop(columns="DIANOM").to_csv(index=False).encode("utf-8")


HISTORY_PROBE = """
import hashlib
import importlib.util
from latam_airlines.models import load_model
from latam_airlines.models.outcomes import export_history

def probe():
    model = load_model({champion!r})
    return [model.outcomes_until, hashlib.sha256(export_history(model)).hexdigest()]
"""


@pytest.mark.slow
def test_daily_outcomes_feeds_yesterdays_departures_to_the_champion_in_the_bucket(
    airflow: AirflowChild, s3_bucket: str, api_model_path: Path, scl_raw: pd.DataFrame
) -> None:
    from latam_airlines.io import join, write_bytes
    from latam_airlines.models import load_model
    from latam_airlines.models.outcomes import export_history

    champion = join(s3_bucket, "models", "champion.joblib")
    upload(api_model_path, champion)
    write_bytes(new_years_day_departures(scl_raw), join(s3_bucket, "departures", "departures_2018-01-01.csv"))
    environment = in_bucket(airflow.environment, s3_bucket) | {"LATAM_ORCHESTRATION__CHAMPION_PATH": champion}
    assert load_model(champion).outcomes_until == "2017-12-31"
    # The run of January 2 feeds January 1; the second run is a retry: idempotent per flight.
    probe = HISTORY_PROBE.format(champion=champion)
    first, retry = dag_test(airflow, "daily_outcomes", environment, "2018-01-02", runs=2, probe=probe)
    fed = load_model(champion)
    assert fed.outcomes_until == "2018-01-01" == first["probe"][0] == retry["probe"][0]
    assert hashlib.sha256(export_history(fed)).hexdigest() == first["probe"][1] == retry["probe"][1]
    assert export_history(fed) != export_history(load_model(api_model_path))


SCHEDULE_PROBE = """
from latam_airlines.models import load_model
from latam_airlines.models.schedule_feed import day_counts, schedule_state

def probe():
    model = load_model({champion!r})
    return [schedule_state(model), day_counts(model, "2018-01-03"), model.outcomes_until]
"""


@pytest.mark.slow
def test_daily_outcomes_feeds_the_coming_days_planned_schedule_then_yesterdays_departures(
    airflow: AirflowChild, s3_bucket: str, schedule_model_path: Path, scl_raw: pd.DataFrame
) -> None:
    from latam_airlines.io import join, write_bytes
    from latam_airlines.models import load_model
    from latam_airlines.models.schedule_feed import day_counts

    champion = join(s3_bucket, "models", "champion.joblib")
    upload(schedule_model_path, champion)
    planned = {}
    for day, source in (("2018-01-02", "2017-12-29"), ("2018-01-03", "2017-12-30")):  # the 4th: not yet
        rows = scl_raw[scl_raw["Fecha-I"].str.startswith(source)].copy()
        moved = pd.to_datetime(rows["Fecha-I"]) + (pd.Timestamp(day) - pd.Timestamp(source))
        rows["Fecha-I"] = moved.dt.strftime("%Y-%m-%d %H:%M:%S")
        planned[day] = rows[["Fecha-I", "Ori-I", "Des-I", "Emp-I", "TIPOVUELO", "OPERA"]]
        write_bytes(
            planned[day].to_csv(index=False).encode(), join(s3_bucket, "schedules", f"schedule_{day}.csv")
        )
    write_bytes(new_years_day_departures(scl_raw), join(s3_bucket, "departures", "departures_2018-01-01.csv"))
    environment = in_bucket(airflow.environment, s3_bucket) | {"LATAM_ORCHESTRATION__CHAMPION_PATH": champion,
                                                        "LATAM_ORCHESTRATION__SCHEDULE_DAYS": "3"}  # fmt: skip
    # The run of January 2 feeds the planned 2nd to 4th (those published) and the departures of
    # the 1st; the second run is a retry: idempotent per flight.
    probe = SCHEDULE_PROBE.format(champion=champion)
    first, retry = dag_test(airflow, "daily_outcomes", environment, "2018-01-02", runs=2, probe=probe)
    state, counts, outcomes_until = first["probe"]
    assert state["flights"] == len(planned["2018-01-02"]) + len(planned["2018-01-03"])
    assert (state["from"], state["until"], outcomes_until) == ("2018-01-02", "2018-01-03", "2018-01-01")
    hours = (
        pd.to_datetime(planned["2018-01-03"]["Fecha-I"])
        .dt.hour.value_counts()
        .reindex(range(24), fill_value=0)
    )
    assert counts["flights"] == len(planned["2018-01-03"]) and counts["by_hour"] == hours.tolist()
    assert retry["probe"] == first["probe"]
    assert day_counts(load_model(champion), "2018-01-03") == counts
