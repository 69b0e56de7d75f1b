"""`--model`, `--models` and `--features` help name the choices the library really takes."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from latam_airlines.cli import main
from latam_airlines.models import pipelines, training, tune


def _help(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main([command, "--help"]) == 0
    return " ".join(capsys.readouterr().out.split())  # undo click's line wrapping


@pytest.mark.parametrize(
    ("command", "choices"),
    [
        ("train", pipelines.MODELS + training.FEATURE_CHOICES),
        ("compare", pipelines.MODELS),
        ("tune", tune.TUNABLE),
    ],
)
def test_help_lists_every_choice(command: str, choices: tuple[str, ...], capsys) -> None:
    shown = _help(command, capsys)
    words = set(re.findall(r"[\w-]+", shown))
    missing = [name for name in choices if name not in words]
    assert not missing, f"`latam {command} --help` does not name {missing}"
    assert "{" not in shown  # no placeholder left unfilled


def test_help_follows_a_new_choice(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(pipelines, "MODELS", (*pipelines.MODELS, "newmodel"))
    monkeypatch.setattr(training, "FEATURE_CHOICES", (*training.FEATURE_CHOICES, "newset"))
    shown = _help("train", capsys)
    assert "lgbm, catboost or newmodel (default: params train.model)" in shown
    assert "or newset (default: params train.features)" in shown


@pytest.mark.slow  # a fresh interpreter
def test_cli_starts_without_importing_the_models() -> None:
    # The choices are read when help is shown: `latam data make` etc. do not pay for sklearn.
    code = "import sys, latam_airlines.cli; assert 'latam_airlines.models' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
