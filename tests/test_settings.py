"""One settings source: defaults < params.yaml < LATAM_* variables < command-line options."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from latam_airlines.cli import main
from latam_airlines.errors import InputError
from latam_airlines.settings import SECTIONS, Settings, current, load_settings, resolve

REPO_ROOT = Path(__file__).resolve().parents[1]


def write_params(folder: Path, content: dict) -> Path:
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(content), encoding="utf-8")
    return path


@pytest.fixture
def no_latam_env(monkeypatch):
    """The tests' own LATAM_* variables only."""
    import os

    for name in list(os.environ):
        if name.startswith("LATAM_"):
            monkeypatch.delenv(name)


def test_the_repository_params_yaml_is_exactly_the_defaults():
    # One truth: params.yaml (what DVC reads) documents every setting with the value settings.py
    # holds; a value changed in one place only fails here.
    on_disk = yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))
    assert load_settings(params_path=REPO_ROOT / "params.yaml", environ={}) == Settings()
    assert set(on_disk) == {"seed", *SECTIONS}
    for name, section in SECTIONS.items():
        assert set(on_disk[name]) == set(section.model_fields), f"params.yaml {name}: keys differ"


def test_a_missing_params_yaml_gives_the_defaults(tmp_path: Path):
    assert load_settings(params_path=tmp_path / "params.yaml", environ={}) == Settings()
    assert Settings().train.model == "logreg" and Settings().train.test_months == [11, 12]


def test_precedence_defaults_params_yaml_environment_command_line(tmp_path: Path):
    path = write_params(tmp_path, {"train": {"model": "xgb"}, "serve": {"port": 9001, "workers": 2}})
    from_file = load_settings(params_path=path, environ={})
    assert (from_file.train.model, from_file.serve.port, from_file.serve.workers) == ("xgb", 9001, 2)
    assert from_file.serve.host == "127.0.0.1"  # left out of the file: the default

    environ = {"LATAM_SERVE__PORT": "9002", "LATAM_TRAIN__TEST_MONTHS": "[10, 11]", "LATAM_SEED": "7"}
    from_env = load_settings(params_path=path, environ=environ)
    assert from_env.serve.port == 9002 and isinstance(from_env.serve.port, int)
    assert from_env.train.test_months == [10, 11] and from_env.seed == 7
    assert from_env.train.model == "xgb" and from_env.serve.workers == 2  # the file still counts

    cli = load_settings({"serve": {"port": 9003, "workers": None}}, params_path=path, environ=environ)
    assert cli.serve.port == 9003
    assert cli.serve.workers == 2  # an option not given (None) falls through


def test_older_variable_names_still_set_their_settings():
    environ = {"LATAM_WORKERS": "3", "LATAM_MAX_BATCH": "50", "LATAM_TRACKING_CACHE_DIR": "/tmp/cache"}
    settings = load_settings(params_path=REPO_ROOT / "params.yaml", environ=environ)
    assert (settings.serve.workers, settings.serve.max_batch) == (3, 50)
    assert settings.tracking.cache_dir == "/tmp/cache"
    # the scheme's name wins over the older one
    both = load_settings(
        params_path=REPO_ROOT / "params.yaml", environ={**environ, "LATAM_SERVE__WORKERS": "4"}
    )
    assert both.serve.workers == 4


def test_null_from_the_environment_is_none():
    settings = load_settings(
        params_path=REPO_ROOT / "params.yaml", environ={"LATAM_TRAIN__STALE_AFTER_DAYS": "null"}
    )
    assert settings.train.stale_after_days is None


@pytest.mark.parametrize(
    ("content", "environ", "overrides", "where", "what"),
    [
        ({"serve": {"port": "eighty"}}, {}, None, "params.yaml", "serve.port"),
        ({}, {"LATAM_SERVE__PORT": "eighty"}, None, "$LATAM_SERVE__PORT", "serve.port"),
        ({}, {}, {"serve": {"port": "eighty"}}, "the command line", "serve.port"),
        ({"train": {"test_months": "11"}}, {}, None, "params.yaml", "train.test_months"),
        ({"train": {"split": "weekly"}}, {}, None, "params.yaml", "train.split"),
        ({"anomalies": {"n_jobs": 1.5}}, {}, None, "params.yaml", "anomalies.n_jobs"),
        ({"train": "logreg"}, {}, None, "params.yaml", "train"),
    ],
)
def test_a_wrong_type_names_key_value_and_origin(tmp_path, content, environ, overrides, where, what):
    path = write_params(tmp_path, content)
    with pytest.raises(InputError) as caught:
        load_settings(overrides, params_path=path, environ=environ)
    message = str(caught.value)
    assert where in message and f"setting {what}" in message
    assert "value" in message


@pytest.mark.parametrize(
    ("content", "environ", "where", "what"),
    [
        ({"train": {"modle": "xgb"}}, {}, "params.yaml", "unknown setting train.modle"),
        ({}, {"LATAM_TRAIN__MODLE": "xgb"}, "$LATAM_TRAIN__MODLE", "unknown setting train.modle"),
        ({"trian": {"model": "xgb"}}, {}, "params.yaml", "unknown settings section 'trian'"),
        ({}, {"LATAM_TRIAN__MODEL": "xgb"}, "$LATAM_TRIAN__MODEL", "unknown settings section 'trian'"),
    ],
)
def test_an_unknown_key_names_it_and_its_origin(tmp_path, content, environ, where, what):
    path = write_params(tmp_path, content)
    with pytest.raises(InputError) as caught:
        load_settings(params_path=path, environ=environ)
    assert where in str(caught.value) and what in str(caught.value)


def test_a_params_yaml_that_is_not_a_mapping_is_an_input_error(tmp_path: Path):
    path = tmp_path / "params.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(InputError, match="expected a mapping of sections"):
        load_settings(params_path=path, environ={})


def test_the_cli_exits_2_naming_a_bad_setting(monkeypatch, capsys):
    monkeypatch.setenv("LATAM_FEATURES__PROCESSED_PATH", "[not, a, path]")
    assert main(["features", "build"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("latam: error: $LATAM_FEATURES__PROCESSED_PATH")
    assert "features.processed_path" in error and "['not', 'a', 'path']" in error


def test_shipped_data_paths_resolve_into_the_package_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no params.yaml here or above: outside a checkout
    assert resolve(Settings().train.data).is_file()
    assert resolve("reports/x.json") == tmp_path / "reports/x.json"


def test_cli_and_environment_and_params_yaml_pick_the_output(
    tmp_path, monkeypatch, scl_interim: pd.DataFrame, no_latam_env
):
    # The same key read by a command: params.yaml < $LATAM_... < --output.
    interim = tmp_path / "interim.parquet"
    scl_interim.head(3000).to_parquet(interim)
    project = tmp_path / "project"
    project.mkdir()
    write_params(
        project, {"data": {"interim_path": str(interim)}, "features": {"processed_path": "a.parquet"}}
    )
    monkeypatch.chdir(project)
    assert main(["--quiet", "features", "build"]) == 0
    assert (project / "a.parquet").is_file()
    monkeypatch.setenv("LATAM_FEATURES__PROCESSED_PATH", "b.parquet")
    assert main(["--quiet", "features", "build"]) == 0
    assert (project / "b.parquet").is_file()
    assert main(["--quiet", "features", "build", "--output", str(project / "c.parquet")]) == 0
    assert (project / "c.parquet").is_file()
    assert not (project / "data").exists()  # the default path was never used


def test_library_and_cli_train_the_same_configured_model(tmp_path, monkeypatch, no_latam_env):
    from latam_airlines.models.training import TrainConfig

    monkeypatch.setenv("LATAM_TRAIN__MODEL", "reference")
    monkeypatch.setenv("LATAM_TRAIN__REFIT_FULL", "false")
    monkeypatch.setenv("LATAM_TRACKING", "0")  # no MLflow run from a test
    assert TrainConfig().model == "reference" and TrainConfig().refit_full is False
    assert current().train.model == "reference"
    metrics = tmp_path / "metrics.json"
    code = main(
        [
            "--quiet",
            "train",
            "--sample",
            "3000",
            "--output",
            str(tmp_path / "m.joblib"),
            "--metrics",
            str(metrics),
        ]
    )
    assert code == 0
    summary = json.loads(metrics.read_text())
    assert summary["model"].startswith("reference")


def test_latam_help_starts_without_loading_the_settings_machinery():
    # pydantic's models load on a command's first settings read, pandas on a command's first
    # table: neither for `latam --help`.
    import subprocess
    import sys

    code = (
        "import sys, latam_airlines.cli; assert not {'latam_airlines.settings', 'pandas'} & set(sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
