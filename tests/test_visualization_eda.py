"""EDA figures on the real SCL sample: titled and labelled, and plotting the right numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

from latam_airlines.errors import InputError
from latam_airlines.visualization import eda


def _bar_values(figure: Figure, by: str) -> dict[str, float]:
    """Tick label -> bar length (horizontal bars for unordered dimensions, vertical otherwise)."""
    axes = figure.axes[0]
    if eda.DIMENSIONS[by].ordered:
        labels, lengths = axes.get_xticklabels(), [bar.get_height() for bar in axes.patches]
    else:
        labels, lengths = axes.get_yticklabels(), [bar.get_width() for bar in axes.patches]
    return dict(zip([label.get_text() for label in labels], lengths, strict=True))


@pytest.mark.parametrize("by", list(eda.DIMENSIONS))
def test_delay_rate_figure_plots_its_table_titled_and_labelled(scl_interim: pd.DataFrame, by: str) -> None:
    figure = eda.plot_delay_rate(scl_interim, by, min_flights=30, top=12)
    axes = figure.axes[0]
    assert "Delay rate" in axes.get_title() and by.replace("_", " ") in axes.get_title()
    assert axes.get_xlabel() and axes.get_ylabel()
    table = eda.delay_rates(scl_interim, by, min_flights=30)
    shown = table if eda.DIMENSIONS[by].ordered else table.head(12)  # top: unordered groups only
    plotted = _bar_values(figure, by)
    assert list(plotted) == [str(label) for label in shown.index] and len(plotted) >= 2  # in order
    np.testing.assert_allclose(list(plotted.values()), shown["delay_rate"])
    overall = next(line for line in axes.lines if line.get_linestyle() == "--")
    drawn = overall.get_xdata() if not eda.DIMENSIONS[by].ordered else overall.get_ydata()
    assert drawn[0] == pytest.approx(scl_interim["atraso_15"].mean())  # the all-flights line


@pytest.mark.parametrize("by", eda.FLIGHT_COUNT_FIGURES)
def test_flight_count_figure_plots_its_table_titled_and_labelled(scl_interim: pd.DataFrame, by: str) -> None:
    axes = eda.plot_flight_counts(scl_interim, by, top=5).axes[0]
    assert axes.get_title().startswith("Flights by") and axes.get_xlabel() and axes.get_ylabel()
    table = eda.flight_counts(scl_interim, by)
    shown = table if eda.DIMENSIONS[by].ordered else table.head(5)
    plotted = _bar_values(axes.figure, by)
    assert list(plotted) == [str(label) for label in shown.index]
    assert list(plotted.values()) == shown["flights"].tolist()
    assert (f"top 5 of {len(table)}" in axes.get_title()) == (len(shown) < len(table))


def test_airline_delay_rates_match_the_data(scl_interim: pd.DataFrame) -> None:
    plotted = _bar_values(eda.plot_delay_rate(scl_interim, "airline", min_flights=30), "airline")
    direct = scl_interim.groupby("OPERA", observed=True)["atraso_15"].agg(["mean", "size"])
    for airline in ("Grupo LATAM", "Sky Airline", "Copa Air", "Latin American Wings"):
        assert plotted[airline] == pytest.approx(direct.loc[airline, "mean"])
    # Groups under the minimum are hidden, every other one is drawn.
    assert set(plotted) == set(direct.index[direct["size"] >= 30])
    # Sorted: highest rate first.
    assert list(plotted.values()) == sorted(plotted.values(), reverse=True)


def test_flight_type_and_season_rates_match_the_data(scl_interim: pd.DataFrame) -> None:
    by_type = _bar_values(eda.plot_delay_rate(scl_interim, "flight_type"), "flight_type")
    international = scl_interim.loc[scl_interim["TIPOVUELO"] == "I", "atraso_15"].mean()
    national = scl_interim.loc[scl_interim["TIPOVUELO"] == "N", "atraso_15"].mean()
    assert by_type["I (international)"] == pytest.approx(international)
    assert by_type["N (national)"] == pytest.approx(national)
    by_season = _bar_values(eda.plot_delay_rate(scl_interim, "season"), "season")
    high = scl_interim.loc[scl_interim["temporada_alta"] == 1, "atraso_15"].mean()
    assert by_season["alta (high)"] == pytest.approx(high)


def test_month_rates_use_the_scheduled_month_in_calendar_order(scl_interim: pd.DataFrame) -> None:
    plotted = _bar_values(eda.plot_delay_rate(scl_interim, "month"), "month")
    assert list(plotted) == [
        "Ene",
        "Feb",
        "Mar",
        "Abr",
        "May",
        "Jun",
        "Jul",
        "Ago",
        "Sep",
        "Oct",
        "Nov",
        "Dic",
    ]
    july = scl_interim.loc[scl_interim["Fecha-I"].dt.month == 7, "atraso_15"].mean()
    assert plotted["Jul"] == pytest.approx(july)


def test_flight_counts_add_up_and_match_the_data(scl_interim: pd.DataFrame) -> None:
    table = eda.flight_counts(scl_interim, "destination")
    assert table["flights"].sum() == len(scl_interim)
    assert table.loc["Buenos Aires", "flights"] == int((scl_interim["SIGLADES"] == "Buenos Aires").sum())
    assert table["flights"].is_monotonic_decreasing
    plotted = _bar_values(eda.plot_flight_counts(scl_interim, "day_of_week"), "day_of_week")
    mondays = int((scl_interim["Fecha-I"].dt.day_of_week == 0).sum())
    assert plotted["Lunes"] == mondays


def test_wilson_interval_matches_a_hand_computed_case() -> None:
    # 10 delayed of 100, z = 1.96: the textbook interval is [0.0552, 0.1744].
    low, high = eda.wilson_interval(np.array([10]), np.array([100]))
    assert low[0] == pytest.approx(0.0552, abs=1e-4)
    assert high[0] == pytest.approx(0.1744, abs=1e-4)
    low, high = eda.wilson_interval(np.array([0]), np.array([5]))
    assert low[0] == pytest.approx(0.0, abs=1e-12) and 0 < high[0] < 1


def test_delay_rates_table_bounds_every_rate(scl_interim: pd.DataFrame) -> None:
    table = eda.delay_rates(scl_interim, "destination", min_flights=50)
    assert (table["flights"] >= 50).all()
    assert ((table["ci_low"] <= table["delay_rate"]) & (table["delay_rate"] <= table["ci_high"])).all()
    assert table.attrs["hidden_groups"] == scl_interim["SIGLADES"].nunique() - len(table)


@pytest.mark.slow  # renders and writes every figure
def test_save_eda_figures_writes_pngs(scl_interim: pd.DataFrame, tmp_path) -> None:
    written = eda.save_eda_figures(scl_interim, tmp_path / "eda")
    expected = (
        ["delay_minutes.png"]
        + [f"flights_by_{by}.png" for by in eda.FLIGHT_COUNT_FIGURES]
        + [f"delay_rate_by_{by}.png" for by in eda.DIMENSIONS]
    )
    assert [path.name for path in written] == expected  # one figure per dimension, nothing else
    assert sorted(p.name for p in (tmp_path / "eda").iterdir()) == sorted(expected)  # no temporaries
    height, width, _ = imread(written[0]).shape  # readable images of the figure's size
    assert height > 100 and width > 100


def test_bad_input_names_the_problem(scl_interim: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="unknown dimension 'airport'"):
        eda.plot_delay_rate(scl_interim, "airport")
    with pytest.raises(InputError, match="SIGLADES"):
        eda.plot_flight_counts(scl_interim.drop(columns=["SIGLADES"]), "destination")


@pytest.mark.slow  # a fresh interpreter
def test_importing_and_drawing_leaves_the_callers_matplotlib_style_alone():
    # A fresh interpreter: importing the package's figure modules and drawing one of its
    # figures must not restyle the caller's matplotlib (seaborn's set_theme at import did),
    # while the package's own figures keep their whitegrid theme (a grid matplotlib lacks).
    import subprocess
    import sys

    script = """
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
before = {key: str(value) for key, value in plt.rcParams.items()}
from latam_airlines.visualization import model_plots
ours = model_plots.roc_figure(pd.DataFrame({"fpr": [0, 1], "tpr": [0, 1]}), 0.5).axes[0]
assert ours.xaxis.get_gridlines()[0].get_visible(), "the package's figure lost its theme"
changed = sorted(key for key, value in plt.rcParams.items() if before[key] != str(value))
assert not changed, changed
theirs = plt.subplots()[1]
assert not theirs.xaxis.get_gridlines()[0].get_visible(), "the caller's figure was restyled"
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
