"""Every /predict request body the README shows is answered 200 by a model trained on the data
the package ships (what `dvc repro` then `latam serve` give a new user)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from latam_airlines.api import create_app

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_request_bodies() -> list[dict]:
    """The JSON objects with a "flights" list that README.md quotes (curl -d '...' and tables)."""
    text = README.read_text(encoding="utf-8")
    bodies = []
    for candidate in re.findall(r"(\{\"flights\": \[.*?\]\})", text):
        bodies.append(json.loads(candidate))
    return bodies


def test_the_readme_shows_request_bodies():
    bodies = readme_request_bodies()
    assert len(bodies) >= 2
    assert all(body["flights"] and "OPERA" in body["flights"][0] for body in bodies)


@pytest.fixture(scope="module")
def shipped_data_client(small_model) -> TestClient:
    # conftest's model: trained on a sample of the shipped table that has every airline of the year.
    return TestClient(create_app(small_model))


@pytest.mark.parametrize("body", readme_request_bodies(), ids=lambda body: body["flights"][0]["OPERA"])
def test_readme_request_is_answered_200(shipped_data_client: TestClient, body: dict):
    answer = shipped_data_client.post("/predict", json=body)
    assert answer.status_code == 200, answer.text
    payload = answer.json()
    assert len(payload["predict"]) == len(payload["probability"]) == len(body["flights"])
    assert all(0.0 <= probability <= 1.0 for probability in payload["probability"])
