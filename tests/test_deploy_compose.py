"""compose.yaml, the deployment reference, linted: profiles, pinned images, the api command as the
CLI parses it, environment names the code reads, extras setup.py defines."""

from __future__ import annotations

import re
from importlib.metadata import metadata
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
PROFILES = {"airflow", "mlflow", "minio", "redis", "postgres", "api"}


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))["services"]


def test_every_service_has_one_known_profile_and_every_profile_is_used(services: dict) -> None:
    used = set()
    for name, service in services.items():
        assert len(service.get("profiles", [])) == 1, name
        assert set(service["profiles"]) <= PROFILES, name
        used |= set(service["profiles"])
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
    assert used == PROFILES


def test_images_are_pinned_and_built_ones_use_extras_setup_py_defines(services: dict) -> None:
    extras = set(metadata("latam_airlines").get_all("Provides-Extra"))
    for name, service in services.items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest" and re.search(r"\d", tag), f"{name}: {image}"
        if "build" in service:
            wanted = service["build"]["args"]["EXTRAS"].split(",")
            assert set(wanted) <= extras, f"{name}: unknown extras {set(wanted) - extras}"


def test_ports_are_published_on_localhost_only(services: dict) -> None:
    for name, service in services.items():
        assert all(str(port).startswith("127.0.0.1:") for port in service.get("ports", [])), name


def test_the_api_command_is_one_the_cli_accepts(services: dict) -> None:
    import typer

    from latam_airlines.cli import app
    from latam_airlines.tracking.runs import tracking_settings

    command = services["api"]["command"]
    assert command[:2] == ["latam", "serve"]
    group = typer.main.get_command(app)
    serve = group.get_command(
        group.make_context("latam", ["serve", "--help"], resilient_parsing=True), "serve"
    )
    options = serve.make_context("serve", list(command[2:])).params  # raises on an unknown option
    assert options["model"] == f"models:/{tracking_settings()['registered_model']}@champion"
    assert options["host"] == "0.0.0.0" and options["workers"] >= 1
    api = services["api"]
    mount = next(volume for volume in api["volumes"] if volume.startswith("./models:"))
    assert Path(api["environment"]["LATAM_MODEL_PATH"]).parent == Path(mount.split(":")[1])


def known_environment() -> set[str]:
    """Every LATAM_* name the package reads: literal names, and LATAM_<SECTION>__<KEY> of every
    setting (settings.py), with the single names kept from before that scheme."""
    from latam_airlines.settings import LEGACY_ENV, SECTIONS

    names = set(LEGACY_ENV)
    for path in (REPO / "latam_airlines").rglob("*.py"):
        names |= set(re.findall(r"[\"'](LATAM_[A-Z0-9_]+)[\"']", path.read_text(encoding="utf-8")))
    for section, model in SECTIONS.items():
        names |= {f"LATAM_{section.upper()}__{key.upper()}" for key in model.model_fields}
        if section == "tracking":
            names |= {f"LATAM_TRACKING_{key.upper()}" for key in model.model_fields}
    return names


def test_environment_names_are_ones_the_code_reads(services: dict) -> None:
    known = known_environment()
    assert "LATAM_REDIS_URL" in known and "LATAM_MODEL_PATH" in known
    for name, service in services.items():
        for variable in service.get("environment", {}):
            if variable.startswith("LATAM_"):
                assert variable in known, f"{name}: {variable} is read by nothing"
