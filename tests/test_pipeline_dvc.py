"""dvc.yaml stays in step with the CLI and params.yaml (the stages `dvc repro` runs)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from latam_airlines.cli import main
from latam_airlines.config import DEFAULT_PARAMS, load_params

REPO_ROOT = Path(__file__).resolve().parents[1]

STAGES = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]


def _lookup(tree: dict, dotted: str):
    node = tree
    for key in dotted.split("."):
        node = node[key]
    return node


def test_pipeline_has_the_issue_stages_in_order():
    names = list(STAGES)
    expected = ["make_dataset", "build_features", "train", "evaluate"]
    assert [n for n in names if n in expected] == expected


@pytest.mark.parametrize("name", list(STAGES))
def test_stage_command_is_a_real_latam_command(name, capsys):
    words = shlex.split(STAGES[name]["cmd"])
    assert words[0] == "latam", "stages call the CLI, so DVC and users run the same code"
    # The subcommand words (options and their values dropped) must name a command.
    command, skip_value = [], False
    for word in words[1:]:
        if skip_value:
            skip_value = False
        elif word.startswith("-"):
            skip_value = word not in ("--quiet", "-q", "--verbose", "-v") and "=" not in word
        else:
            command.append(word)
    assert main([*command, "--help"]) == 0, f"`latam {' '.join(command)}` is not a command"
    assert "Usage: latam" in capsys.readouterr().out


@pytest.mark.parametrize("name", list(STAGES))
def test_stage_params_exist_in_params_yaml(name):
    params = load_params(REPO_ROOT / "params.yaml")
    for entry in STAGES[name].get("params", []):
        keys = entry if isinstance(entry, str) else next(iter(entry.values()))
        for key in [keys] if isinstance(keys, str) else keys:
            _lookup(params, key)  # KeyError names the missing parameter


def test_stage_dependencies_exist_or_are_produced_upstream():
    produced: set[str] = set()
    for name, stage in STAGES.items():
        for dep in stage.get("deps", []):
            assert dep in produced or (REPO_ROOT / dep).exists(), (
                f"{name}: dependency {dep} is neither code nor an upstream output"
            )
        for kind in ("outs", "metrics", "plots"):
            for out in stage.get(kind, []):
                produced.add(out if isinstance(out, str) else next(iter(out)))


def test_params_yaml_overrides_every_default_section():
    on_disk = yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))
    assert set(DEFAULT_PARAMS) <= set(on_disk), "params.yaml documents every section of the defaults"
