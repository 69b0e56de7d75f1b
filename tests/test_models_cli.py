"""`latam train/evaluate/compare/tune/predict` end to end on small real inputs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from latam_airlines.cli import main


@pytest.fixture(scope="module")
def small_table(small_features_path: Path) -> Path:
    return small_features_path  # 5,000 real flights, every month (read only)


@pytest.fixture(scope="module")
def trained(small_table: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    code = main(["-q", "train", "--data", str(small_table), "--model", "reference", "--no-tuned",
                 "--output", str(folder / "model.joblib"), "--metrics", str(folder / "metrics.json")])  # fmt: skip
    assert code == 0
    return folder / "model.joblib"


def test_train_writes_artifact_and_metrics(trained: Path, small_table: Path) -> None:
    import json

    from latam_airlines.models import load_model

    metrics = json.loads((trained.parent / "metrics.json").read_text())
    recorded = load_model(trained).metrics
    assert {key: metrics[key] for key in recorded} == recorded  # the file holds the artifact's record
    assert 0.5 < metrics["holdout"]["roc_auc"] < 1
    months = pd.read_csv(small_table)["MES"]
    # The temporal holdout: the last two months are tested, the rest trained on.
    assert metrics["holdout"]["rows"] == int(months.isin([11, 12]).sum())
    assert metrics["train_rows"] == int((months <= 10).sum())


def test_predict_scores_the_raw_sample(trained: Path, scl_raw_path: Path, tmp_path: Path) -> None:
    output = tmp_path / "predictions.csv"
    assert (
        main(
            ["-q", "predict", "--model", str(trained), "--input", str(scl_raw_path), "--output", str(output)]
        )
        == 0
    )
    predictions = pd.read_csv(output)
    raw = pd.read_csv(scl_raw_path)
    assert len(predictions) == len(raw)
    assert predictions["delay_probability"].between(0, 1).all()
    assert set(predictions["delayed"].unique()) <= {0, 1}
    assert predictions["Fecha-I"].tolist() == raw["Fecha-I"].tolist()


def test_evaluate_writes_metrics_curves_and_figures(trained: Path, small_table: Path, tmp_path: Path) -> None:
    code = main(["-q", "evaluate", "--model", str(trained), "--data", str(small_table),
                 "--reports-dir", str(tmp_path), "--figures-dir", str(tmp_path / "figures")])  # fmt: skip
    assert code == 0
    import json

    from latam_airlines.models import load_model

    # On its own training data, evaluate reports the holdout train recorded (no refit): same figures.
    evaluation = json.loads((tmp_path / "evaluation.json").read_text())
    recorded = json.loads((trained.parent / "metrics.json").read_text())["holdout"]
    for metric in ("roc_auc", "pr_auc", "f1_delayed", "brier"):
        assert evaluation[metric] == pytest.approx(recorded[metric], abs=1e-9)
    assert "as recorded by train" in evaluation["protocol"]
    evidence = load_model(trained).evidence
    matrix = evaluation["confusion_matrix"]
    assert sum(matrix["actual_delayed"]) == int(evidence["y"].sum()) == recorded["support_delayed"]
    assert matrix["actual_delayed"][1] + matrix["actual_on_time"][1] == int(evidence["decision"].sum())
    importance = pd.read_csv(tmp_path / "plots" / "importance.csv")
    assert set(importance["field"]) == set(load_model(trained).features)
    figures = {p.name for p in (tmp_path / "figures").glob("*.png")}
    assert figures == {"confusion_matrix.png", "roc_curve.png", "pr_curve.png", "calibration_curve.png",
                       "feature_importance.png"}  # fmt: skip


def test_evaluation_caption_names_model_data_and_period(trained: Path, small_table: Path) -> None:
    from latam_airlines.io import read_table
    from latam_airlines.models import load_model
    from latam_airlines.models.evaluate import evaluate

    model = load_model(trained)
    evaluation = evaluate(model, read_table(small_table))
    assert evaluation.caption.startswith(model.metadata["version"])
    assert small_table.name in evaluation.caption and "2017-11-01..2017-12-31" in evaluation.caption
    steps: list[str] = []
    other = read_table(small_table).head(3000)  # not its training data: scored as is
    other.attrs["source"] = "other.csv"
    evaluation = evaluate(model, other, repeats=1, on_step=steps.append)
    assert "scored as is" in evaluation.protocol and "other.csv" in evaluation.caption
    assert steps == ["permutation importance"]


@pytest.mark.slow  # cross-validates two models
def test_compare_reports_the_fold_metrics_inside_its_markers(small_table: Path, tmp_path: Path) -> None:
    from latam_airlines.models.compare import REPORTED

    report, results = tmp_path / "compare.md", tmp_path / "folds.csv"
    report.write_text(
        "# Hand-written\n<!-- compare:start -->\nold tables\n<!-- compare:end -->\nmy argument\n"
    )
    code = main(["-q", "compare", "--data", str(small_table), "--models", "reference,logreg", "--folds", "2",
                 "--sample", "3000", "--report", str(report), "--results", str(results)])  # fmt: skip
    assert code == 0
    text = report.read_text()
    # Only the generated block is replaced: the hand-written head and tail stay.
    assert text.startswith("# Hand-written\n<!-- compare:start -->\n") and "old tables" not in text
    assert text.endswith("<!-- compare:end -->\nmy argument\n")
    folds = pd.read_csv(results)
    cross, holdout = text.split("### Temporal holdout")
    for section, protocol in ((cross, "stratified k-fold"), (holdout, "temporal holdout")):
        runs = folds[folds["protocol"] == protocol]
        assert runs.groupby("candidate")["fold"].nunique().to_dict() == (
            {"reference": 2, "logreg": 2}
            if protocol == "stratified k-fold"
            else {"reference": 1, "logreg": 1}
        )
        for candidate in ("reference", "logreg"):
            row = next(line for line in section.splitlines() if line.startswith(f"| {candidate} |"))
            cells = [cell.strip() for cell in row.strip("|").split("|")][1 : 1 + len(REPORTED)]
            scores = runs[runs["candidate"] == candidate]
            for metric, cell in zip(REPORTED, cells, strict=True):
                mean = float(cell.split(" ± ")[0])
                assert mean == pytest.approx(scores[metric].mean(), abs=5e-4), (candidate, metric)
                if protocol == "stratified k-fold":  # mean ± std over the folds
                    assert float(cell.split(" ± ")[1]) == pytest.approx(scores[metric].std(ddof=0), abs=5e-4)


@pytest.mark.slow  # an optuna study
def test_tune_writes_best_params_inside_the_search_space(small_table: Path, tmp_path: Path) -> None:
    import yaml

    tuned = tmp_path / "tuned.yaml"
    code = main(["-q", "tune", "--data", str(small_table), "--trials", "2", "--folds", "2", "--sample", "2000",
                 "--output", str(tuned)])  # fmt: skip
    assert code == 0
    best = yaml.safe_load(tuned.read_text())["xgb"]
    assert {"n_estimators", "max_depth", "learning_rate", "subsample"} <= set(best)
    assert 150 <= best["n_estimators"] <= 800 and best["n_estimators"] % 50 == 0
    assert 3 <= best["max_depth"] <= 7 and 0.01 <= best["learning_rate"] <= 0.2


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["train", "--model", "xgb", "--data", "{nodata}"], "no such file"),
        (["train", "--model", "svm", "--data", "{table}"], "unknown model 'svm'"),
        (["train", "--data", "{notarget}"], "no target column 'atraso_15'"),
        (["predict", "--model", "{nodata}", "--input", "{table}", "--output", "{out}"], "no model artifact"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    arguments: list[str], expected: str, small_table: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    no_target = tmp_path / "no_target.csv"
    pd.read_csv(small_table).drop(columns="atraso_15").to_csv(no_target, index=False)
    paths = {
        "nodata": tmp_path / "missing.csv",
        "table": small_table,
        "notarget": no_target,
        "out": tmp_path / "o.csv",
    }
    argv = [
        "-q",
        *(a.format(**paths) for a in arguments),
        "--output" if arguments[0] == "train" else "",
    ]
    argv = [a for a in argv if a]
    if arguments[0] == "train":
        argv += [str(tmp_path / "model.joblib")]
    assert main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and expected in error


def test_outcomes_feeds_departures_and_bad_files_leave_the_artifact_alone(
    api_model_path: Path, scl_raw: pd.DataFrame, tmp_path: Path
) -> None:
    from latam_airlines.models import load_model

    model_path = tmp_path / "model.joblib"  # a copy of conftest's xgb artifact (fed daily)
    model_path.write_bytes(api_model_path.read_bytes())
    # The raw sample moved to January 2018: departures that happened after the training data.
    later = scl_raw.copy()
    for column in ("Fecha-I", "Fecha-O"):
        later[column] = (pd.to_datetime(later[column]) + pd.DateOffset(years=1)).dt.strftime(
            "%Y-%m-%d %H:%M:%S"
        )
    later["AÑO"] = 2018
    later = later.drop(columns="DIANOM")  # weekdays move with the year (make_dataset derives them)
    later = later[later["Fecha-I"].str.startswith("2018-01")]
    departures = tmp_path / "departures.csv"
    later.to_csv(departures, index=False)
    assert main(["-q", "outcomes", "--model", str(model_path), "--data", str(departures)]) == 0
    assert load_model(model_path).outcomes_until == "2018-01-31"
    before = model_path.read_bytes()
    broken = tmp_path / "broken.csv"
    later.drop(columns="Fecha-O").to_csv(broken, index=False)
    assert main(["-q", "outcomes", "--model", str(model_path), "--data", str(broken)]) == 2
    assert model_path.read_bytes() == before
