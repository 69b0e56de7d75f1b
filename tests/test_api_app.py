"""The FastAPI app through TestClient: predictions, every 400 case, /health, /model, /docs."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from latam_airlines.api import create_app
from latam_airlines.api.predictor import CachedPredictor
from latam_airlines.api.schemas import Flight
from latam_airlines.api.validation import FIELD_RULES, FlightValidator
from latam_airlines.models import DelayModel, load_model

MINIMAL = {"OPERA": "Grupo LATAM", "TIPOVUELO": "N", "MES": 3}


@pytest.fixture(scope="session")
def api_model(api_model_path: Path) -> DelayModel:
    return load_model(api_model_path)


@pytest.fixture(scope="module", params=[True, False], ids=["fast-path", "router"])
def client(api_model: DelayModel, request: pytest.FixtureRequest) -> TestClient:
    # Every case runs against the raw ASGI fast path and against FastAPI's router.
    return TestClient(create_app(api_model, max_batch=50, fast_path=request.param))


def flights(model: DelayModel, count: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [
        {
            "OPERA": str(rng.choice(model.known_values["OPERA"])),
            "TIPOVUELO": str(rng.choice(["I", "N"])),
            "MES": int(rng.integers(1, 13)),
        }
        for _ in range(count)
    ]


# ----------------------------------------------------------------- predictions
def test_single_flight_gets_label_and_probability(client: TestClient, api_model: DelayModel) -> None:
    answer = client.post("/predict", json={"flights": [MINIMAL]})
    assert answer.status_code == 200
    body = answer.json()
    expected = float(api_model.predict_proba([MINIMAL])[0])
    assert body["probability"] == pytest.approx([expected], abs=1e-6)
    assert body["predict"] == api_model.predict([MINIMAL])  # at the minimal regime's threshold


def test_batch_answers_in_order_and_match_the_model(client: TestClient, api_model: DelayModel) -> None:
    batch = flights(api_model, 40)
    body = client.post("/predict", json={"flights": batch}).json()
    np.testing.assert_allclose(body["probability"], api_model.predict_proba(batch), atol=1e-6)
    assert body["predict"] == api_model.predict(batch)
    assert len(set(body["probability"])) > 1  # a real mix of answers, not one constant


def test_richer_fields_are_accepted(client: TestClient, api_model: DelayModel) -> None:
    destination = api_model.known_values.get("Des_I", ["SAEZ"])[0]
    rich = dict(
        MINIMAL, **{"Fecha-I": "2017-03-05 23:30:00", "Des-I": destination, "DIANOM": "Domingo", "DIA": 5}
    )
    processed_names = dict(MINIMAL, Des_I=destination, HORA=8, MIN=30, DIA=5, periodo_dia="mañana")
    batch = [rich, MINIMAL, processed_names]
    answer = client.post("/predict", json={"flights": batch})
    assert answer.status_code == 200, answer.text
    one_by_one = [float(api_model.predict_proba([flight])[0]) for flight in batch]  # mixed spellings
    np.testing.assert_allclose(answer.json()["probability"], one_by_one, atol=1e-6)
    assert len(set(answer.json()["probability"])) == 3  # the richer fields change the answer


def test_cache_gives_the_same_answers_as_the_model(api_model: DelayModel) -> None:
    batch = flights(api_model, 200, seed=1) + [dict(MINIMAL, DIA=day) for day in range(1, 29)]
    uncached = CachedPredictor(api_model, cache_size=0).predict(batch)
    tiny = CachedPredictor(api_model, cache_size=5)  # fills up mid-batch: the rest is predicted
    warm = CachedPredictor(api_model)
    assert warm.warm() == len(api_model.known_values["OPERA"]) * 2 * 12
    for predictor in (tiny, warm, tiny, warm):
        labels, probabilities, *schedule = predictor.predict(batch)  # + statuses: schedule counts read
        assert labels == uncached[0] and schedule == list(uncached[2:])
        np.testing.assert_allclose(probabilities, uncached[1], atol=1e-9)
    assert len(tiny._cache) == 5


# ----------------------------------------------------------------- 400 with index, field, value
BAD_FLIGHTS = [
    (
        "unknown OPERA",
        {"OPERA": "Aerolineas Marcianas", "TIPOVUELO": "N", "MES": 3},
        "OPERA",
        "Aerolineas Marcianas",
    ),
    ("MES above 12", {"OPERA": "Grupo LATAM", "TIPOVUELO": "N", "MES": 13}, "MES", 13),
    ("MES below 1", {"OPERA": "Grupo LATAM", "TIPOVUELO": "N", "MES": 0}, "MES", 0),
    ("TIPOVUELO not I/N", {"OPERA": "Grupo LATAM", "TIPOVUELO": "X", "MES": 3}, "TIPOVUELO", "X"),
    ("missing field", {"OPERA": "Grupo LATAM", "TIPOVUELO": "N"}, "MES", None),
    ("MES as string", {"OPERA": "Grupo LATAM", "TIPOVUELO": "N", "MES": "3"}, "MES", "3"),
    ("MES as boolean", {"OPERA": "Grupo LATAM", "TIPOVUELO": "N", "MES": True}, "MES", True),
    ("OPERA as number", {"OPERA": 7, "TIPOVUELO": "N", "MES": 3}, "OPERA", 7),
    ("unknown field", dict(MINIMAL, MESS=3), "MESS", 3),
    ("bad optional value", dict(MINIMAL, DIANOM="Funday"), "DIANOM", "Funday"),
    ("bad date", dict(MINIMAL, **{"Fecha-I": "yesterday"}), "Fecha-I", "yesterday"),
]


@pytest.mark.parametrize(
    ("case", "bad", "field", "value"), BAD_FLIGHTS, ids=[case[0] for case in BAD_FLIGHTS]
)
def test_bad_flight_is_400_naming_index_field_value(
    client: TestClient, case: str, bad: dict, field: str, value: object
) -> None:
    answer = client.post("/predict", json={"flights": [MINIMAL, MINIMAL, bad]})
    assert answer.status_code == 400, case
    assert {"index": 2, "field": field, "value": value} in [
        {key: item[key] for key in ("index", "field", "value")} for item in answer.json()["detail"]
    ]
    assert all(item["message"] for item in answer.json()["detail"])


BAD_BODIES = [
    ("empty list", b'{"flights": []}', "flights", []),
    ("not JSON", b'{"flights": [', "body", '{"flights": ['),
    ("flights not a list", b'{"flights": {"OPERA": "Grupo LATAM"}}', "flights", {"OPERA": "Grupo LATAM"}),
    ("no flights key", b'{"vuelos": []}', "flights", None),
    ("list body", b"[1, 2]", "flights", None),
    ("batch above the limit", ('{"flights": [' + ",".join(['{"OPERA": "Grupo LATAM", "TIPOVUELO": "N", "MES": 3}'] * 51) + "]}").encode(), "flights", 51),
]  # fmt: skip


@pytest.mark.parametrize(("case", "body", "field", "value"), BAD_BODIES, ids=[case[0] for case in BAD_BODIES])
def test_bad_body_is_400_naming_field_value(
    client: TestClient, case: str, body: bytes, field: str, value
) -> None:
    answer = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, case
    (problem,) = answer.json()["detail"]
    assert (problem["index"], problem["field"], problem["value"]) == (None, field, value)


def test_flight_that_is_not_an_object_is_400(client: TestClient) -> None:
    answer = client.post("/predict", json={"flights": [MINIMAL, "Grupo LATAM"]})
    assert answer.status_code == 400
    assert answer.json()["detail"][0] | {"message": ""} == {
        "index": 1,
        "field": None,
        "value": "Grupo LATAM",
        "message": "",
    }


def test_oversized_body_is_413_before_reading(client: TestClient) -> None:
    huge = b'{"flights": [' + b" " * (50 * 1024 + 1) + b"]}"
    answer = client.post("/predict", content=huge, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    assert answer.json()["detail"][0]["field"] == "body"


def test_a_field_under_both_spellings_is_400(client: TestClient, api_model: DelayModel) -> None:
    destination = api_model.known_values["Des_I"][0]
    twice = dict(MINIMAL, **{"Des-I": destination, "Des_I": destination})
    (problem,) = client.post("/predict", json={"flights": [twice]}).json()["detail"]
    assert (problem["index"], problem["field"], problem["value"]) == (0, "Des-I", destination)
    assert "not both" in problem["message"]


def test_every_problem_of_a_batch_is_reported(client: TestClient) -> None:
    batch = [MINIMAL, {"OPERA": "Nope", "TIPOVUELO": "Z", "MES": 99}]
    detail = client.post("/predict", json={"flights": batch}).json()["detail"]
    assert {(item["index"], item["field"]) for item in detail} == {(1, "OPERA"), (1, "TIPOVUELO"), (1, "MES")}


def test_unknown_values_come_from_the_artifact(api_model: DelayModel) -> None:
    narrower = copy.copy(api_model)
    narrower.known_values = dict(api_model.known_values, OPERA=["Sky Airline"])
    client = TestClient(create_app(narrower, cache_size=0))
    assert client.post("/predict", json={"flights": [dict(MINIMAL, OPERA="Sky Airline")]}).status_code == 200
    answer = client.post("/predict", json={"flights": [MINIMAL]})
    assert answer.status_code == 400
    assert answer.json()["detail"][0]["value"] == "Grupo LATAM"


def test_fast_validator_agrees_with_the_models_unknown_values(api_model: DelayModel) -> None:
    validator = FlightValidator(api_model.known_values, max_batch=1_000)
    batch = flights(api_model, 30) + [dict(MINIMAL, OPERA="Unknown Air"), dict(MINIMAL, OPERA="Otra")]
    expected = {(row, field) for row, field, _ in api_model.unknown_values(batch)}
    assert expected == {(30, "OPERA"), (31, "OPERA")}
    for row, flight in enumerate(batch):
        found = set()
        try:
            validator.flights({"flights": [flight]})
        except Exception as invalid:  # noqa: BLE001 - RequestInvalid carries the problems
            found = {(row, item["field"]) for item in invalid.problems}
        assert found == {(r, f) for r, f in expected if r == row}


def test_never_422_even_for_a_form_post(client: TestClient) -> None:
    answer = client.post("/predict", data={"flights": "x"})
    assert answer.status_code == 400


# ----------------------------------------------------------------- health, model, docs
def test_health(client: TestClient) -> None:
    answer = client.get("/health")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


def test_model_endpoint_describes_the_artifact(client: TestClient, api_model: DelayModel) -> None:
    info = client.get("/model").json()
    assert info["version"] == api_model.metadata["version"]
    assert info["data_fingerprint"] == api_model.metadata["data_fingerprint"]
    assert info["threshold"] == api_model.threshold
    assert info["feed"]["outcomes_until"] == api_model.outcomes_until
    assert set(info["feed"]["thresholds"]) == {"fed", "stale", "stale_schedule", "minimal", "minimal_stale"}
    assert info["feed"]["stale_after_days"] == api_model.feed_state()["stale_after_days"]
    assert info["known_values"] == api_model.known_values
    assert info["metrics"] == api_model.metrics
    assert info["max_batch"] == 50


def test_docs_and_schema_describe_every_accepted_field(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    body = schema["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/PredictRequest"}
    documented = set(schema["components"]["schemas"]["Flight"]["properties"])
    assert documented == set(FIELD_RULES)
    assert set(Flight.model_json_schema(by_alias=True)["required"]) == {"OPERA", "TIPOVUELO", "MES"}
    assert "400" in schema["paths"]["/predict"]["post"]["responses"]


def test_chunked_body_over_the_limit_is_413(client: TestClient) -> None:
    def chunks():
        yield b'{"flights": ['
        for _ in range(60):
            yield b" " * 1_024

    answer = client.post("/predict", content=chunks(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    assert answer.json()["detail"][0]["field"] == "body"
