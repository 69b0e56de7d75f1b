"""dvc.yaml stays in step with the CLI and params.yaml (the stages `dvc repro` runs)."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from latam_airlines.cli import main
from latam_airlines.settings import SECTIONS, load_settings

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
    params = load_settings(params_path=REPO_ROOT / "params.yaml", environ={}).as_params()
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
    assert {"seed", *SECTIONS} <= set(on_disk), "params.yaml documents every section of the settings"


def _stale_entries(status: dict, tracked: set[str]) -> list[str]:
    """What `dvc status --json` says changed in the committed inputs of each stage: code and
    shipped data tracked by git, params and commands (not data a fresh clone has yet to make)."""
    stale = []
    for stage, changes in status.items():
        for change in changes:
            if isinstance(change, str):  # "changed command", "always changed", ...
                stale.append(f"{stage}: {change}")
                continue
            for path, state in change.get("changed deps", {}).items():
                if path == "params.yaml" or isinstance(state, dict):
                    stale.append(f"{stage}: params {state}")
                elif path in tracked or any(name.startswith(path.rstrip("/") + "/") for name in tracked):
                    stale.append(f"{stage}: {path} {state}")
    return stale


@pytest.mark.slow  # `dvc status` in a subprocess hashes every stage
def test_dvc_lock_matches_the_committed_code():
    """The committed dvc.lock must record the code, shipped data, params and commands each stage
    runs with: otherwise `dvc repro` on a fresh clone re-runs stages and dirties the tree.
    Refresh it with `dvc repro` (and commit dvc.lock with the change)."""
    dvc = shutil.which("dvc") or str(Path(sys.executable).with_name("dvc"))
    if not (REPO_ROOT / ".git").exists() or not Path(dvc).exists():
        pytest.fail("needs the git checkout and dvc (pip install -e '.[test]')")
    tracked = set(
        subprocess.run(
            ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
    )
    result = subprocess.run(
        [dvc, "status", "--json"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    stale = _stale_entries(json.loads(result.stdout or "{}"), tracked)
    assert not stale, "dvc.lock is stale (run `dvc repro` and commit dvc.lock):\n" + "\n".join(stale)


def test_staleness_check_ignores_data_a_fresh_clone_has_yet_to_make():
    status = {
        "build_features": [{"changed deps": {"data/interim/flights.parquet": "deleted"}},
                           {"changed outs": {"data/processed/features.parquet": "not in cache"}}],
        "train": [{"changed deps": {"latam_airlines/models": "modified", "params.yaml": {"seed": "modified"}}},
                  "changed command"],
    }  # fmt: skip
    stale = _stale_entries(status, {"latam_airlines/models/training.py", "params.yaml"})
    assert stale == [
        "train: latam_airlines/models modified",
        "train: params {'seed': 'modified'}",
        "train: changed command",
    ]
