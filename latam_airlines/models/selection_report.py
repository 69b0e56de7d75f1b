"""The model-selection report `latam compare` writes: the stratified K-fold and temporal-holdout
tables of `compare_models`, as Markdown. A report holding `<!-- compare:start -->` ...
`<!-- compare:end -->` (reports/model_selection.md: the argued choice around the tables) gets
only that block refreshed; any other file is replaced by the tables."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from latam_airlines.io import write_text
from latam_airlines.models.compare import Candidate, markdown_table

START = "<!-- compare:start -->"
END = "<!-- compare:end -->"


def selection_tables(
    scores: pd.DataFrame,
    candidates: Sequence[Candidate],
    source: str | None,
    rows: int,
    folds: int,
    seed: int,
) -> str:
    """The generated Markdown: where the data came from, then one table per protocol."""
    return (
        f"Data: `{source}` ({rows:,} rows). Seed {seed}.\n\n"
        f"### Stratified {folds}-fold cross-validation (mean ± std over folds)\n\n"
        + markdown_table(scores, "stratified k-fold", candidates)
        + "\n\n### Temporal holdout (train Jan–Oct, test Nov–Dec)\n\n"
        + markdown_table(scores, "temporal holdout", candidates)
        + "\n"
    )


def spliced(tables: str, current: str | None) -> str:
    """The report's new text: `tables` between the markers of `current`, else `tables` alone."""
    if current is None or START not in current:
        return tables
    head, rest = current.split(START, 1)
    tail = rest.split(END, 1)[1] if END in rest else ""
    return f"{head}{START}\n{tables}{END}{tail}"


def write_selection_report(tables: str, path: str | Path) -> str:
    """Write `tables` into the report at `path` (atomically); returns the text written."""
    path = Path(path)
    text = spliced(tables, path.read_text(encoding="utf-8") if path.exists() else None)
    write_text(text, path)
    return text
