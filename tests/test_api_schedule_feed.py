"""The planned-schedule feed (models/schedule_feed.py): `latam schedule`, POST/GET /schedule (a
real uvicorn server, and workers sharing a real Redis) and what /predict says about it.

The model reads planned-schedule counts in its stale tier (train.stale_schedule): its outcome
history ends 2017-12-31, so January 2018 flights from the 9th on are stale: answered by that tier
when their day is booked (its planned schedule fed), else by the plain stale tier.
Its planned flights are the shipped raw sample's January 10-19, moved to 2018, each given a
flight number (the sample has none)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from latam_airlines.api.app import create_app, model_info
from latam_airlines.api.reloading import ModelSource, ReloadingApp
from latam_airlines.api.shared_state import SharedSettings, SharedState, schedule_and_publish
from latam_airlines.cli import main
from latam_airlines.errors import InputError
from latam_airlines.models import load_model
from latam_airlines.models.schedule_feed import (
    apply_schedule,
    check_schedule,
    day_counts,
    schedule_state,
)

TOKEN = "s3cret-feed-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DAY = "2018-01-15"
PROBES = [  # a booked day (stale tier with the counts), an unfed day (plain stale tier), the minimal record
    {"OPERA": "Grupo LATAM", "TIPOVUELO": "N", "MES": 1, "Des-I": "SCFA", "Fecha-I": f"{DAY} 10:00:00"},
    {"OPERA": "Grupo LATAM", "TIPOVUELO": "N", "MES": 1, "Des-I": "SCFA", "Fecha-I": "2018-01-25 10:00:00"},
    {"OPERA": "Grupo LATAM", "TIPOVUELO": "N", "MES": 1},
]


@pytest.fixture(scope="module")
def planned(scl_raw: pd.DataFrame) -> pd.DataFrame:
    """Planned flights of January 10-19, 2018 (raw columns, with flight numbers)."""
    days = scl_raw[scl_raw["Fecha-I"].str.startswith("2017-01-1")].copy()
    days["Fecha-I"] = (pd.to_datetime(days["Fecha-I"]) + pd.DateOffset(years=1)).dt.strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    days["Vlo-I"] = np.arange(len(days)) + 100
    return days[["Fecha-I", "Vlo-I", "Ori-I", "Des-I", "Emp-I", "TIPOVUELO", "OPERA"]].reset_index(drop=True)


@pytest.fixture(scope="module")
def plain_model_path(api_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The API test model without its stale tier with schedule counts: a model trained with
    train.stale_schedule: false, which reads no planned-schedule counts."""
    model = load_model(api_model_path)
    model.pipeline.stale_schedule = None
    return model.save(tmp_path_factory.mktemp("plain") / "model.joblib")


def copy_of(source: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.joblib"
    path.write_bytes(source.read_bytes())
    return path


def truth(flights: pd.DataFrame, day: str) -> dict:
    """What the counts of `day` must be, counted with pandas on the planned flights."""
    of_day = flights[flights["Fecha-I"].str.startswith(day)]
    hours = pd.to_datetime(of_day["Fecha-I"]).dt.hour.value_counts().reindex(range(24), fill_value=0)
    return {"flights": len(of_day), "by_hour": hours.tolist(),
            "by_airline": of_day["OPERA"].value_counts().to_dict()}  # fmt: skip


def library_model(path: Path, flights: pd.DataFrame):
    """The artifact fed through the library's own API (DelayModel.record_schedule)."""
    model = load_model(path)
    model.record_schedule(flights.drop(columns=["Vlo-I", "Ori-I", "Emp-I"]).assign(MES=1))
    return model


def counts_of(answer: dict) -> dict:
    return {key: answer[key] for key in ("flights", "by_hour", "by_airline")}


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("change", "column", "message"),
    [
        (lambda t: t.drop(columns="Des-I"), "Des-I", "needs the columns"),
        (lambda t: t.assign(**{"Fecha-I": t["Fecha-I"].where(t.index != 3, "2018-02-30 10:00")}), "Fecha-I",
         "real date-time"),
        (lambda t: t.assign(**{"Fecha-I": t["Fecha-I"].where(t.index != 2, None)}), "Fecha-I", "required but empty"),
        (lambda t: t.assign(**{"Ori-I": t["Ori-I"].where(t.index != 5, "SCFA")}), "Ori-I", "leaving SCL"),
        (lambda t: pd.concat([t, t.iloc[[7]].assign(**{"Des-I": "SAEZ"})], ignore_index=True), "Des-I",
         "listed twice with different Des-I"),
        (lambda t: t.iloc[0:0], None, "holds no flight"),
    ],
)  # fmt: skip
def test_bad_schedules_are_refused_naming_what_is_wrong_and_nothing_is_written(
    schedule_model_path: Path, planned: pd.DataFrame, tmp_path: Path, capsys, change, column, message
) -> None:
    bad = change(planned)
    with pytest.raises(InputError, match=message) as raised:
        check_schedule(bad, "bad.csv")
    assert raised.value.column == column and "bad.csv" in str(raised.value)
    model = copy_of(schedule_model_path, tmp_path / "model")
    data = tmp_path / "bad.csv"
    bad.to_csv(data, index=False)
    before = model.read_bytes()
    assert main(["schedule", "--model", str(model), "--data", str(data)]) == 2
    assert "bad.csv" in capsys.readouterr().err  # one line naming the file
    assert model.read_bytes() == before


def test_identical_rows_are_one_flight_and_numberless_rows_keep_their_occurrences(
    planned: pd.DataFrame,
) -> None:
    doubled = pd.concat([planned, planned.iloc[[4]]], ignore_index=True)
    assert len(check_schedule(doubled)) == len(planned)  # the same flight listed twice
    numberless = pd.concat([planned, planned.iloc[[4]]], ignore_index=True).drop(columns="Vlo-I")
    assert len(check_schedule(numberless)) == len(planned) + 1  # two flights at the same minute


def test_a_model_without_schedule_counts_refuses_the_feed(
    plain_model_path: Path, planned: pd.DataFrame
) -> None:
    with pytest.raises(InputError, match="reads no planned-schedule counts"):
        apply_schedule(load_model(plain_model_path), check_schedule(planned))


# ------------------------------------------------------------------ latam schedule
def test_cli_feed_matches_the_library_counts_and_is_idempotent_per_flight(
    schedule_model_path: Path, planned: pd.DataFrame, tmp_path: Path, capsys
) -> None:
    model_path = copy_of(schedule_model_path, tmp_path / "model")
    data = tmp_path / "schedule.csv"
    planned.to_csv(data, index=False)
    assert day_counts(load_model(model_path), DAY) | {"booked": None} == {
        "day": DAY, "booked": None, "flights": 0, "by_hour": [0] * 24, "by_airline": {}, "by_destination": {}
    }  # fmt: skip
    assert main(["schedule", "--model", str(model_path), "--data", str(data)]) == 0
    assert f"recorded {len(planned)} planned flights" in capsys.readouterr().out
    fed = load_model(model_path)
    assert schedule_state(fed) == {"reads_schedule": True, "fed": True, "flights": len(planned), "days": 10,
                                   "from": "2018-01-10", "until": "2018-01-19"}  # fmt: skip
    library = library_model(schedule_model_path, planned)
    for day in ("2018-01-10", DAY, "2018-01-19"):
        assert counts_of(day_counts(fed, day)) == counts_of(day_counts(library, day)) == truth(planned, day)
        assert day_counts(fed, day)["by_destination"] == day_counts(library, day)["by_destination"]
    np.testing.assert_allclose(fed.predict_proba(PROBES), library.predict_proba(PROBES))
    assert not np.allclose(
        fed.predict_proba(PROBES[:1]), load_model(schedule_model_path).predict_proba(PROBES[:1])
    )

    # Fed again (a retried run): nothing changes, the artifact is not rewritten.
    written = model_path.read_bytes()
    assert main(["schedule", "--model", str(model_path), "--data", str(data)]) == 0
    assert f"0 new, 0 replaced, {len(planned)} unchanged" in capsys.readouterr().out
    assert model_path.read_bytes() == written


def test_partial_days_add_up_and_a_retimed_flight_moves(
    schedule_model_path: Path, planned: pd.DataFrame, tmp_path: Path
) -> None:
    model = load_model(schedule_model_path)
    of_day = planned[planned["Fecha-I"].str.startswith(DAY)]
    first, second = of_day.iloc[: len(of_day) // 2], of_day.iloc[len(of_day) // 2 :]
    assert apply_schedule(model, check_schedule(first)).new == len(first)
    assert day_counts(model, DAY)["flights"] == len(first)
    assert apply_schedule(model, check_schedule(second)).new == len(second)
    assert counts_of(day_counts(model, DAY)) == truth(of_day, DAY)

    moved = of_day.iloc[[0]].copy()
    old_hour = int(moved["Fecha-I"].str[11:13].iloc[0])
    new_hour = 23 if old_hour != 23 else 5
    moved["Fecha-I"] = f"{DAY} {new_hour:02d}:40:00"
    change = apply_schedule(model, check_schedule(moved))
    assert (change.new, change.replaced) == (0, 1)
    retimed = pd.concat([of_day.iloc[1:], moved])
    assert counts_of(day_counts(model, DAY)) == truth(retimed, DAY)  # counted once, at its new time
    np.testing.assert_allclose(
        model.predict_proba(PROBES), library_model(schedule_model_path, retimed).predict_proba(PROBES)
    )


# ------------------------------------------------------------------ the API
def serving(
    path: Path, shared: SharedState | None = None, token: str | None = TOKEN, workers: int = 1
) -> ReloadingApp:
    return ReloadingApp(ModelSource(path), lambda model: create_app(model), poll_seconds=0,
                        info=lambda model: model_info(model, 10_000), shared=shared, feed_token=token,
                        max_batch=500, workers=workers)  # fmt: skip


def body_of(flights: pd.DataFrame) -> dict:
    records = flights.astype({"Vlo-I": str}).to_dict(orient="records")
    return {"flights": records}


def test_post_schedule_feeds_the_served_file_and_predict_says_what_the_counts_stood_on(
    schedule_model_path: Path, planned: pd.DataFrame, tmp_path: Path
) -> None:
    path = copy_of(schedule_model_path, tmp_path / "model")
    client = TestClient(serving(path))
    info = client.get("/model").json()
    assert info["schedule"] == {"reads_schedule": True, "fed": False, "flights": 0, "days": 0, "from": None,
                                "until": None}  # fmt: skip
    unfed = client.post("/predict", json={"flights": PROBES}).json()
    assert unfed["schedule"] == [None, None, None]  # unfed days: the plain stale tier, no counts

    body = body_of(planned)
    assert client.post("/schedule", json=body).status_code == 401
    assert client.post("/schedule", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert TestClient(serving(path, token=None)).post("/schedule", json=body, headers=AUTH).status_code == 403
    bad = body_of(planned.assign(**{"Ori-I": "SCIE"}))
    refused = client.post("/schedule", json=bad, headers=AUTH)
    assert refused.status_code == 400 and refused.json()["detail"][0]["field"] == "Ori-I"
    unknown = client.post("/schedule", json={"flights": [{**body["flights"][0], "Gate": "A1"}]}, headers=AUTH)
    assert unknown.status_code == 400 and unknown.json()["detail"][0]["field"] == "Gate"
    too_many = client.post("/schedule", json={"flights": body["flights"] * 2}, headers=AUTH)
    assert too_many.status_code == 400  # max_batch 500 here
    assert path.read_bytes() == schedule_model_path.read_bytes()  # nothing recorded by refused feeds

    answer = client.post("/schedule", json=body, headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert answer.json() | {"kept_in": None} == {
        "recorded": len(planned), "new": len(planned), "replaced": 0, "unchanged": 0, "kept_in": None,
        "schedule": {"reads_schedule": True, "fed": True, "flights": len(planned), "days": 10,
                     "from": "2018-01-10", "until": "2018-01-19"},
    }  # fmt: skip
    assert client.get("/model").json()["schedule"]["until"] == "2018-01-19"
    library = library_model(schedule_model_path, planned)
    served = client.get("/schedule", params={"day": DAY}).json()
    assert (
        counts_of(served) == counts_of(day_counts(library, DAY)) == truth(planned, DAY) and served["booked"]
    )
    fed = client.post("/predict", json={"flights": PROBES}).json()
    assert fed["schedule"] == ["booked", None, None]
    np.testing.assert_allclose(fed["probability"], library.predict_proba(PROBES), rtol=1e-6)
    assert counts_of(day_counts(load_model(path), DAY)) == truth(planned, DAY)  # the file keeps it

    again = client.post("/schedule", json=body, headers=AUTH).json()
    assert (again["new"], again["replaced"], again["unchanged"]) == (0, 0, len(planned))
    assert client.get("/schedule", params={"day": "2018-13-01"}).status_code == 400


def test_post_schedule_refuses_when_the_feed_has_nowhere_to_go(
    schedule_model_path: Path, plain_model_path: Path, planned: pd.DataFrame, tmp_path: Path
) -> None:
    body = body_of(planned.head(5))
    several = TestClient(serving(copy_of(schedule_model_path, tmp_path / "a"), workers=2))
    assert several.post("/schedule", json=body, headers=AUTH).status_code == 409  # workers, no Redis
    plain = TestClient(serving(copy_of(plain_model_path, tmp_path / "b")))
    answer = plain.post("/schedule", json=body, headers=AUTH)
    assert answer.status_code == 409 and "no planned-schedule counts" in answer.text
    assert plain.get("/schedule", params={"day": DAY}).status_code == 409
    huge = b'{"flights": [' + b" " * (500 * 1_024) + b"]}"  # past max_batch (500 here) x 1 KiB
    assert plain.post("/schedule", content=huge, headers=AUTH).status_code == 413
    assert plain.delete("/schedule", headers=AUTH).status_code == 405
    assert "schedule" not in plain.post("/predict", json={"flights": PROBES}).json()  # the usual body


def test_workers_share_feeds_through_redis_merged_per_flight(
    schedule_model_path: Path, planned: pd.DataFrame, tmp_path: Path, redis_server
) -> None:
    settings = SharedSettings(redis_server.url)
    files = [copy_of(schedule_model_path, tmp_path / f"worker{number}") for number in (1, 2)]
    workers = [serving(path, SharedState.from_settings(settings), workers=2) for path in files]
    clients = [TestClient(worker) for worker in workers]
    of_day = planned[planned["Fecha-I"].str.startswith(DAY)]
    half = len(of_day) // 2
    # Each worker takes half of the day: the shared schedule holds both halves.
    assert clients[0].post("/schedule", json=body_of(of_day.iloc[:half]), headers=AUTH).json()["new"] == half
    assert clients[1].post("/schedule", json=body_of(of_day.iloc[half:]), headers=AUTH).status_code == 200
    for worker in workers:
        worker.sync_shared_once()
    for client in clients:
        assert counts_of(client.get("/schedule", params={"day": DAY}).json()) == truth(of_day, DAY)
        assert client.get("/model").json()["schedule"]["flights"] == len(of_day)
    for path in files:
        assert path.read_bytes() == schedule_model_path.read_bytes()  # Redis carried it

    # `latam schedule`'s feed (another artifact copy) reaches the workers, and a newcomer
    # serving another model version starts with all of it.
    rest = planned[~planned["Fecha-I"].str.startswith(DAY)]
    result = schedule_and_publish(
        copy_of(schedule_model_path, tmp_path / "cli"), check_schedule(rest), "rest", settings
    )
    assert "published" in (result.published or "")
    assert workers[0].sync_shared_once() is True
    promoted = load_model(schedule_model_path)  # another model version: the schedule is not per model
    promoted.metadata["version"] = "promoted"
    promoted.save(tmp_path / "newcomer.joblib")
    newcomer = serving(tmp_path / "newcomer.joblib", SharedState.from_settings(settings))
    library = library_model(schedule_model_path, planned)
    for app in (workers[0], newcomer):
        assert schedule_state(app.served.model)["flights"] == len(planned)
        np.testing.assert_allclose(app.served.model.predict_proba(PROBES), library.predict_proba(PROBES))

    redis_server.stop()
    answer = clients[0].post("/schedule", json=body_of(of_day.iloc[:1]), headers=AUTH)
    assert answer.status_code == 503 and "nothing recorded" in answer.text


# ------------------------------------------------------------------ a real server
def post(url: str, body: dict, headers: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **headers})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - a local server
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.slow
def test_a_uvicorn_server_takes_the_schedule_over_http_and_keeps_it_in_its_file(
    schedule_model_path: Path, planned: pd.DataFrame, scl_raw_path: Path, tmp_path: Path
) -> None:
    from latam_airlines import loadtest as load

    path = copy_of(schedule_model_path, tmp_path / "server")
    with load.local_server(path, extra_env={"LATAM_FEED_TOKEN": TOKEN, "LATAM_POLL_SECONDS": "0.2"}) as url:
        status, refused = post(f"{url}/schedule", body_of(planned), {"Authorization": "Bearer nope"})
        assert status == 401, refused
        status, answer = post(f"{url}/schedule", body_of(planned), AUTH)
        assert status == 200 and answer["new"] == len(planned), answer
        served = load.fetch_json(f"{url}/schedule?day={DAY}")
        assert counts_of(served) == truth(planned, DAY)
        status, predicted = post(f"{url}/predict", {"flights": PROBES}, {})
        assert status == 200 and predicted["schedule"] == ["booked", None, None]
        assert load.fetch_json(f"{url}/model")["schedule"]["until"] == "2018-01-19"
    assert schedule_state(load_model(path))["flights"] == len(planned)  # a restart keeps the feed


# ------------------------------------------------------------------ the daily DAG's task (moto S3)
def test_the_daily_task_feeds_the_coming_days_files_from_the_bucket(
    schedule_model_path: Path, plain_model_path: Path, planned: pd.DataFrame, s3_bucket: str
) -> None:
    from latam_airlines.io import join, read_bytes, write_bytes
    from latam_airlines.orchestration import tasks

    champion = join(s3_bucket, "models", "champion.joblib")
    write_bytes(schedule_model_path.read_bytes(), champion)
    schedules = join(s3_bucket, "schedules")
    # A deployment that publishes no schedule: nothing to feed, the run succeeds, nothing written.
    idle = tasks.feed_planned_schedule(schedules, "2018-01-15", champion, 2)
    assert "no planned schedule is published" in idle["skipped"] and idle["recorded"] == 0
    assert read_bytes(champion) == schedule_model_path.read_bytes()
    for day in ("2018-01-15", "2018-01-16", "2018-01-18"):  # the 17th is not published yet
        of_day = planned[planned["Fecha-I"].str.startswith(day)]
        write_bytes(of_day.to_csv(index=False).encode(), join(schedules, f"schedule_{day}.csv"))
    with pytest.raises(InputError, match="no planned schedule for 2018-01-20 to 2018-01-21"):
        tasks.feed_planned_schedule(schedules, "2018-01-20", champion, 2)

    result = tasks.feed_planned_schedule(schedules, "2018-01-15", champion, 3)
    fed_days = planned[planned["Fecha-I"].str[:10].isin(["2018-01-15", "2018-01-16"])]
    assert [path.rsplit("/", 1)[1] for path in result["files"]] == [
        "schedule_2018-01-15.csv",
        "schedule_2018-01-16.csv",
    ]
    assert result["recorded"] == result["new"] == len(fed_days)
    assert result["schedule"]["from"] == "2018-01-15" and result["schedule"]["until"] == "2018-01-16"
    model = load_model(champion)
    assert counts_of(day_counts(model, "2018-01-16")) == truth(planned, "2018-01-16")
    written = read_bytes(champion)
    retry = tasks.feed_planned_schedule(schedules, "2018-01-15", champion, 3)
    assert (retry["new"], retry["unchanged"]) == (0, len(fed_days)) and read_bytes(champion) == written

    broken = planned[planned["Fecha-I"].str.startswith("2018-01-17")].assign(**{"Ori-I": "SCIE"})
    write_bytes(broken.to_csv(index=False).encode(), join(schedules, "schedule_2018-01-17.csv"))
    with pytest.raises(InputError, match="schedule_2018-01-17.csv.*Ori-I"):
        tasks.feed_planned_schedule(schedules, "2018-01-16", champion, 2)
    assert read_bytes(champion) == written  # every file is checked before anything is written

    plain = join(s3_bucket, "models", "plain.joblib")
    write_bytes(plain_model_path.read_bytes(), plain)
    skipped = tasks.feed_planned_schedule(schedules, "2018-01-15", plain, 2)
    assert (
        "reads no planned-schedule counts" in skipped["skipped"]
        and read_bytes(plain) == plain_model_path.read_bytes()
    )


def test_latam_predict_says_which_flights_read_a_typical_day(
    schedule_model_path: Path, planned: pd.DataFrame, tmp_path: Path, capsys
) -> None:
    model_path = copy_of(schedule_model_path, tmp_path / "model")
    flights = tmp_path / "flights.csv"
    pd.DataFrame(PROBES).to_csv(flights, index=False)
    output = tmp_path / "predictions.csv"
    apply_and_save = load_model(model_path)
    apply_schedule(apply_and_save, check_schedule(planned))
    apply_and_save.save(model_path)
    assert (
        main(["predict", "--model", str(model_path), "--input", str(flights), "--output", str(output)]) == 0
    )
    written = pd.read_csv(output, keep_default_na=False)
    assert written["schedule"].tolist() == ["booked", "", ""]
    assert "1 flights fall on days without a fed planned schedule" in capsys.readouterr().err


@pytest.mark.slow
def test_two_serve_processes_share_a_schedule_posted_to_one_within_5_s(
    schedule_model_path: Path, planned: pd.DataFrame, tmp_path: Path, redis_server
) -> None:
    import time

    from latam_airlines import loadtest as load

    environment = {"LATAM_REDIS_URL": redis_server.url, "LATAM_POLL_SECONDS": "0", "LATAM_FEED_TOKEN": TOKEN}
    files = [copy_of(schedule_model_path, tmp_path / f"server{number}") for number in (1, 2)]
    with load.local_server(files[0], extra_env=environment) as first, \
            load.local_server(files[1], extra_env=environment) as second:  # fmt: skip
        status, answer = post(f"{first}/schedule", body_of(planned), AUTH)
        assert status == 200 and answer["kept_in"].startswith("redis"), answer
        posted = time.monotonic()
        seen = None
        while seen is None and time.monotonic() - posted < 5:
            if load.fetch_json(f"{second}/model")["schedule"]["flights"] == len(planned):
                seen = time.monotonic() - posted
            time.sleep(0.1)
        assert seen is not None, load.fetch_json(f"{second}/model")["shared_state"]
        library = library_model(schedule_model_path, planned)
        for url in (first, second):
            assert counts_of(load.fetch_json(f"{url}/schedule?day={DAY}")) == truth(planned, DAY)
            status, predicted = post(f"{url}/predict", {"flights": PROBES}, {})
            assert predicted["schedule"] == ["booked", None, None]
            np.testing.assert_allclose(predicted["probability"], library.predict_proba(PROBES), rtol=1e-6)
    for path in files:
        assert path.read_bytes() == schedule_model_path.read_bytes()  # Redis carried it, not the files
