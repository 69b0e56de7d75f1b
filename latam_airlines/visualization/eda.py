"""Exploratory figures on the interim table: how flights are spread, and how the delay rate
(`atraso_15`) varies by destination, airline, month, day of week, hour, season, period of day
and flight type.

Calendar dimensions use the scheduled time (`Fecha-I`), as the targets and the model features
do. Every delay-rate bar carries its flight count and a 95 % Wilson interval, and groups below
`min_flights` are hidden (and counted in the title), so a rate from six flights is not
read as if it came from six thousand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter, StrMethodFormatter

from latam_airlines.data.schema import DAY_NAMES, MONTH_ABBREVIATIONS, PERIODS
from latam_airlines.errors import InputError
from latam_airlines.io import require_interim_columns
from latam_airlines.visualization.figures import save_figure, themed

TARGET = "atraso_15"
WILSON_Z = 1.96  # 95 % two-sided
SEASON_LABELS = {0: "baja (low)", 1: "alta (high)"}
FLIGHT_TYPE_LABELS = {"N": "N (national)", "I": "I (international)"}
_BAR_COLOR = "#3b75af"
_MANY_GROUPS = 14  # above this, vertical-bar annotations are rotated to stay readable
# Annotations sit on a faint white box so the overall-rate line does not cross the digits.
_THOUSANDS = StrMethodFormatter("{x:,.0f}")
_LABEL_BOX = {"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 0.6}


@dataclass(frozen=True)
class Dimension:
    """One way to group flights: the interim column it reads, its axis label, and how to
    turn the column into group labels. `ordered` dimensions keep their natural order
    (months, weekdays); the others are sorted by the plotted value."""

    column: str
    label: str
    groups: Callable[[pd.Series], pd.Series]
    ordered: bool


def _as_text(values: pd.Series) -> pd.Series:
    return values.astype("string")


def _month(when: pd.Series) -> pd.Series:
    return pd.Series(
        pd.Categorical.from_codes(when.dt.month.to_numpy() - 1, MONTH_ABBREVIATIONS, ordered=True),
        index=when.index,
    )


def _day_of_week(when: pd.Series) -> pd.Series:
    return pd.Series(
        pd.Categorical.from_codes(when.dt.day_of_week.to_numpy(), DAY_NAMES, ordered=True), index=when.index
    )


def _hour(when: pd.Series) -> pd.Series:
    labels = [f"{hour:02d}" for hour in range(24)]
    return pd.Series(
        pd.Categorical.from_codes(when.dt.hour.to_numpy(), labels, ordered=True), index=when.index
    )


def _labelled(mapping: dict) -> Callable[[pd.Series], pd.Series]:
    def groups(values: pd.Series) -> pd.Series:
        labels = values.astype(object).map(mapping)
        return pd.Series(
            pd.Categorical(labels, categories=list(mapping.values()), ordered=True), index=values.index
        )

    return groups


def _period(values: pd.Series) -> pd.Series:
    return pd.Series(
        pd.Categorical(values.astype(object), categories=PERIODS, ordered=True), index=values.index
    )


DIMENSIONS: dict[str, Dimension] = {
    "destination": Dimension("SIGLADES", "Destination (SIGLADES)", _as_text, ordered=False),
    "airline": Dimension("OPERA", "Operating airline (OPERA)", _as_text, ordered=False),
    "month": Dimension("Fecha-I", "Month (scheduled)", _month, ordered=True),
    "day_of_week": Dimension("Fecha-I", "Day of week (scheduled)", _day_of_week, ordered=True),
    "hour": Dimension("Fecha-I", "Hour of day (scheduled)", _hour, ordered=True),
    "season": Dimension("temporada_alta", "Season (temporada_alta)", _labelled(SEASON_LABELS), ordered=True),
    "period_of_day": Dimension("periodo_dia", "Period of day (periodo_dia)", _period, ordered=True),
    "flight_type": Dimension(
        "TIPOVUELO", "Flight type (TIPOVUELO)", _labelled(FLIGHT_TYPE_LABELS), ordered=True
    ),
}
FLIGHT_COUNT_FIGURES = ("destination", "airline", "month", "day_of_week", "hour")
DELAY_RATE_FIGURES = tuple(DIMENSIONS)


def _dimension(by: str) -> Dimension:
    if by not in DIMENSIONS:
        raise InputError(f"unknown dimension {by!r}; expected one of {', '.join(DIMENSIONS)}")
    return DIMENSIONS[by]


def _check_columns(interim: pd.DataFrame, columns: list[str]) -> None:
    require_interim_columns(interim, columns)
    if interim.empty:
        raise InputError("no flights to plot (0 rows)", file=interim.attrs.get("source"))


def group_labels(interim: pd.DataFrame, by: str) -> pd.Series:
    """The group each flight falls in for dimension `by` (one of `DIMENSIONS`)."""
    dimension = _dimension(by)
    _check_columns(interim, [dimension.column])
    return dimension.groups(interim[dimension.column]).rename(by)


def wilson_interval(
    delayed: np.ndarray, flights: np.ndarray, z: float = WILSON_Z
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion: unlike p ± z·se, it stays inside [0, 1] and
    is honest for small groups and rates near 0 or 1."""
    delayed = np.asarray(delayed, dtype=float)
    flights = np.asarray(flights, dtype=float)
    rate = delayed / flights
    z2 = z * z
    center = (rate + z2 / (2 * flights)) / (1 + z2 / flights)
    half = z / (1 + z2 / flights) * np.sqrt(rate * (1 - rate) / flights + z2 / (4 * flights**2))
    return center - half, center + half


def flight_counts(interim: pd.DataFrame, by: str) -> pd.DataFrame:
    """Flights per group (`flights`, `share` of all flights); natural order for ordered
    dimensions, most flights first otherwise."""
    labels = group_labels(interim, by)
    counts = labels.value_counts(sort=False).rename("flights")
    counts = counts[counts > 0]
    table = counts.to_frame()
    table["share"] = table["flights"] / len(interim)
    table.index = table.index.astype(str)
    table.index.name = by
    if _dimension(by).ordered:
        return table
    return table.sort_values("flights", ascending=False, kind="stable")


def delay_rates(interim: pd.DataFrame, by: str, min_flights: int = 0) -> pd.DataFrame:
    """Per group: `flights`, `delayed`, `delay_rate` (mean of `atraso_15`) and its 95 % Wilson
    interval `ci_low`/`ci_high`. Groups with fewer than `min_flights` flights are dropped
    (their number is kept in `attrs["hidden_groups"]`). Natural order for ordered dimensions,
    highest rate first otherwise."""
    _check_columns(interim, [TARGET])
    labels = group_labels(interim, by)
    grouped = interim[TARGET].astype("int64").groupby(labels, observed=True)
    table = pd.DataFrame({"flights": grouped.size(), "delayed": grouped.sum()})
    table.index = table.index.astype(str)
    table.index.name = by
    kept = table[table["flights"] >= min_flights].copy()
    kept["delay_rate"] = kept["delayed"] / kept["flights"]
    kept["ci_low"], kept["ci_high"] = wilson_interval(kept["delayed"].to_numpy(), kept["flights"].to_numpy())
    if not _dimension(by).ordered:
        kept = kept.sort_values(["delay_rate", "flights"], ascending=False, kind="stable")
    kept.attrs["hidden_groups"] = int(len(table) - len(kept))
    kept.attrs["min_flights"] = min_flights
    return kept


def _new_figure(groups: int, horizontal: bool) -> tuple[Figure, object]:
    # Horizontal charts grow with the number of bars so labels never overlap.
    size = (9, max(3.0, 0.32 * groups + 1.4)) if horizontal else (min(12.0, max(6.0, 0.55 * groups + 2)), 4.6)
    figure = Figure(figsize=size, layout="constrained")
    return figure, figure.add_subplot()


@themed
def plot_flight_counts(interim: pd.DataFrame, by: str, top: int | None = None) -> Figure:
    """Bar chart of flights per group, each bar labelled with its count and share."""
    dimension = _dimension(by)
    table = flight_counts(interim, by)
    shown = table if top is None or dimension.ordered else table.head(top)
    horizontal = not dimension.ordered
    figure, axes = _new_figure(len(shown), horizontal)
    positions = np.arange(len(shown))
    annotations = [f"{n:,} ({share:.1%})" for n, share in zip(shown["flights"], shown["share"])]
    if horizontal:
        bars = axes.barh(positions, shown["flights"], color=_BAR_COLOR)
        axes.set_yticks(positions, shown.index)
        axes.invert_yaxis()  # largest group on top
        axes.set_xlabel("Flights")
        axes.set_ylabel(dimension.label)
        axes.xaxis.set_major_formatter(_THOUSANDS)
        axes.bar_label(bars, annotations, padding=3, fontsize=8)
        axes.margins(x=0.18)
    else:
        bars = axes.bar(positions, shown["flights"], color=_BAR_COLOR)
        axes.set_xticks(positions, shown.index)
        axes.set_xlabel(dimension.label)
        axes.set_ylabel("Flights")
        axes.yaxis.set_major_formatter(_THOUSANDS)
        many = len(shown) > _MANY_GROUPS
        labels = [f"{n:,}" for n in shown["flights"]] if many else annotations
        axes.bar_label(bars, labels, padding=3, fontsize=7 if many else 8, rotation=90 if many else 0)
        axes.margins(y=0.22 if many else 0.12)
    hidden = len(table) - len(shown)
    note = f" (top {len(shown)} of {len(table)})" if hidden else ""
    axes.set_title(f"Flights by {by.replace('_', ' ')}{note}: {len(interim):,} flights")
    return figure


@themed
def plot_delay_rate(interim: pd.DataFrame, by: str, min_flights: int = 30, top: int | None = None) -> Figure:
    """Bar chart of the delay rate (`atraso_15`) per group with 95 % Wilson intervals, each
    bar labelled with its rate and flight count; the dashed line is the overall rate."""
    dimension = _dimension(by)
    table = delay_rates(interim, by, min_flights=min_flights)
    shown = table if top is None or dimension.ordered else table.head(top)
    if shown.empty:
        raise InputError(f"no {by} group has at least {min_flights} flights; lower min_flights")
    overall = float(interim[TARGET].mean())
    horizontal = not dimension.ordered
    figure, axes = _new_figure(len(shown), horizontal)
    positions = np.arange(len(shown))
    rate = shown["delay_rate"].to_numpy()
    errors = np.vstack([rate - shown["ci_low"].to_numpy(), shown["ci_high"].to_numpy() - rate])
    error_style = {"ecolor": "#333333", "capsize": 2, "elinewidth": 0.9}
    many = len(shown) > _MANY_GROUPS and not horizontal
    annotations = [
        f"{r:.1%} n={n:,}" if horizontal or many else f"{r:.1%}\nn={n:,}"
        for r, n in zip(rate, shown["flights"])
    ]
    if horizontal:
        axes.barh(positions, rate, xerr=errors, color=_BAR_COLOR, error_kw=error_style)
        axes.set_yticks(positions, shown.index)
        axes.invert_yaxis()  # highest rate on top
        axes.axvline(
            overall, color="#c0392b", linestyle="--", linewidth=1, label=f"all flights: {overall:.1%}"
        )
        for position, upper, text in zip(positions, shown["ci_high"], annotations):
            axes.text(upper + 0.006, position, text, va="center", fontsize=8, bbox=_LABEL_BOX)
        axes.set_xlabel("Delay rate (share of flights > 15 min late)")
        axes.set_ylabel(dimension.label)
        axes.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
        axes.set_xlim(0, min(1.0, float(shown["ci_high"].max()) * 1.25 + 0.03))
    else:
        axes.bar(positions, rate, yerr=errors, color=_BAR_COLOR, error_kw=error_style)
        axes.set_xticks(positions, shown.index)
        axes.axhline(
            overall, color="#c0392b", linestyle="--", linewidth=1, label=f"all flights: {overall:.1%}"
        )
        for position, upper, text in zip(positions, shown["ci_high"], annotations):
            axes.text(
                position,
                upper + 0.006,
                text,
                ha="center",
                va="bottom",
                fontsize=7 if many else 8,
                rotation=90 if many else 0,
                bbox=_LABEL_BOX,
            )
        axes.set_xlabel(dimension.label)
        axes.set_ylabel("Delay rate (share > 15 min late)")
        axes.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
        axes.set_ylim(0, min(1.0, float(shown["ci_high"].max()) * (1.45 if many else 1.3) + 0.02))
    axes.legend(loc="lower right" if horizontal else "upper left", fontsize=8, frameon=True)
    notes = ["bars: 95 % Wilson interval"]
    if min_flights > 1:
        hidden = table.attrs["hidden_groups"]
        notes.append(
            f"groups with ≥ {min_flights} flights" + (f", {hidden} smaller hidden" if hidden else "")
        )
    if len(shown) < len(table):
        notes.append(f"top {len(shown)} of {len(table)} by rate")
    axes.set_title(f"Delay rate (atraso_15) by {by.replace('_', ' ')}\n({'; '.join(notes)})", fontsize=11)
    return figure


@themed
def plot_delay_minutes(interim: pd.DataFrame, clip: tuple[float, float] = (-30, 150)) -> Figure:
    """Histogram of `dif_min` (operated minus scheduled minutes), clipped to `clip` so the
    long tail does not squash the bulk, with the 15-minute delay threshold marked."""
    _check_columns(interim, ["dif_min", TARGET])
    low, high = clip
    minutes = interim["dif_min"].astype(float).clip(low, high)
    figure = Figure(figsize=(9, 4.2), layout="constrained")
    axes = figure.add_subplot()
    axes.hist(minutes, bins=np.arange(low, high + 5, 5), color=_BAR_COLOR, edgecolor="white")
    rate = float(interim[TARGET].mean())
    axes.axvline(
        15, color="#c0392b", linestyle="--", linewidth=1, label=f"15 min: {rate:.1%} of flights later"
    )
    axes.set_xlabel(f"Departure delay in minutes (dif_min, clipped to [{low:g}, {high:g}])")
    axes.set_ylabel("Flights")
    axes.yaxis.set_major_formatter(_THOUSANDS)
    axes.set_title(
        f"Distribution of departure delay: {len(interim):,} flights, median {interim['dif_min'].median():.0f} min"
    )
    axes.legend(fontsize=8)
    return figure


def save_eda_figures(
    interim: pd.DataFrame,
    output_dir: str | Path,
    min_flights: int = 30,
    top: int = 25,
    top_rates: int = 50,
) -> list[Path]:
    """Write every EDA figure as PNG into `output_dir` (via `save_figure`); returns the paths:
    `delay_minutes.png`, `flights_by_<dimension>.png` (largest `top` groups) and
    `delay_rate_by_<dimension>.png` (up to `top_rates` groups of at least `min_flights` flights:
    enough to show both ends of the SCL destinations, bounded for sources with many airports)."""
    output = Path(output_dir)
    written = [save_figure(plot_delay_minutes(interim), output / "delay_minutes.png")]
    for by in FLIGHT_COUNT_FIGURES:
        written.append(save_figure(plot_flight_counts(interim, by, top=top), output / f"flights_by_{by}.png"))
    for by in DELAY_RATE_FIGURES:
        figure = plot_delay_rate(interim, by, min_flights=min_flights, top=top_rates)
        written.append(save_figure(figure, output / f"delay_rate_by_{by}.png"))
    return written
