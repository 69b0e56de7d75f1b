"""catboost is an optional extra: without it everything else works, and choosing it says how to install it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from latam_airlines.cli import main
from latam_airlines.errors import InputError

HINT = 'pip install -e ".[catboost]"'


@pytest.fixture
def no_catboost(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes `import catboost` raise ImportError, as if it were not installed.
    monkeypatch.setitem(sys.modules, "catboost", None)


@pytest.mark.slow  # a fresh interpreter imports every model library
def test_package_and_cli_import_without_catboost() -> None:
    # A fresh interpreter, so no earlier test has imported catboost already.
    code = (
        "import sys; sys.modules['catboost'] = None\n"
        "import latam_airlines, latam_airlines.cli, latam_airlines.models, latam_airlines.models.compare\n"
        "import latam_airlines.models.tune, latam_airlines.models.pipelines\n"
        "assert sys.modules['catboost'] is None\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_catboost_pipeline_without_catboost_names_the_extra(no_catboost: None) -> None:
    from latam_airlines.models.pipelines import make_pipeline

    with pytest.raises(InputError, match=r"pip install -e \"\.\[catboost\]\""):
        make_pipeline("catboost", np.array([0, 1, 0, 1]))
    assert make_pipeline("xgb", np.array([0, 1, 0, 1])) is not None  # the others are unaffected


def test_train_catboost_without_catboost_exits_2_with_install_hint(
    no_catboost: None, small_features_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = small_features_path
    output = tmp_path / "model.joblib"
    code = main(["-q", "train", "--data", str(data), "--model", "catboost", "--no-tuned",
                 "--output", str(output), "--metrics", str(tmp_path / "metrics.json")])  # fmt: skip
    error = capsys.readouterr().err
    assert code == 2
    assert HINT in error and error.count("\n") == 1  # one line, naming the install command
    assert not output.exists()


def test_compare_without_catboost_skips_it_by_default_and_refuses_it_by_name(no_catboost: None) -> None:
    from latam_airlines.models.pipelines import default_candidates, select_candidates

    assert "catboost" not in {c.model for c in default_candidates()}
    assert {"logreg", "xgb"} <= {c.model for c in select_candidates(None)}
    with pytest.raises(InputError, match="catboost"):
        select_candidates(["xgb", "catboost"])


def test_compare_with_catboost_installed_keeps_it() -> None:
    pytest.importorskip("catboost")
    from latam_airlines.models.pipelines import default_candidates

    assert "catboost" in {c.model for c in default_candidates()}


@pytest.mark.slow  # a catboost fit
def test_loading_a_catboost_artifact_without_catboost_names_the_extra(
    catboost_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from latam_airlines.models import load_model

    path = catboost_model_path
    for name in [module for module in sys.modules if module == "catboost" or module.startswith("catboost.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(InputError, match=r"needs the package 'catboost'.*\.\[catboost\]"):
        load_model(path)
