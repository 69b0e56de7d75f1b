"""One chart per airport: flights per day and mean delay per day, anomalous days in red and
labelled with their cause; days listed but not scored (too few flights) drawn hollow.

Every airport's chart follows the same rules: a gap (no line) on days without flights, whole
numbers of flights on the y axis starting at 0, and a delay axis that always shows 0 to 30 min.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, MaxNLocator

from latam_airlines.visualization import save_figure

ANOMALY_COLOR = "#d62728"
LABELLED_DAYS = 5  # the highest-scoring anomalous days get their date and cause beside the dot
CAUSE_LABELS = {
    "flights": "flights",
    "mean_delay": "mean delay",
    "delayed_share": "share delayed",
    "p90_delay": "p90 delay",
}
# The delay axis always shows at least this range, so that a quiet airport's small wiggles do
# not look like a storm: the same y-range rule for every airport.
DELAY_AXIS_MINUTES = (0.0, 30.0)


def cause_label(day: pd.Series) -> str:
    """`mean delay high`, `flights low`, ... for a scored day (empty when it has no cause)."""
    cause = day.get("cause")
    if not isinstance(cause, str):
        return ""
    return f"{CAUSE_LABELS.get(cause, cause)} {day['cause_direction']}"


def _with_gaps(days: pd.DataFrame) -> pd.DataFrame:
    """Every calendar day from the first to the last, NaN where the airport had no flights: a
    line then breaks there instead of being drawn straight across empty weeks."""
    calendar = pd.date_range(days["date"].min(), days["date"].max(), freq="D")
    return (
        days.set_index("date")[["flights", "mean_delay"]].reindex(calendar).rename_axis("date").reset_index()
    )


def plot_airport_days(airport_days: pd.DataFrame, path: str | Path, title_suffix: str = "") -> Path:
    """Save the chart of one airport's days (`date, flights, mean_delay, score, is_anomaly`,
    optionally `cause`, `cause_direction`)."""
    days = airport_days.sort_values("date")
    anomalous = days[days["is_anomaly"]]
    unscored = days[days["score"].isna()]
    airport = str(days["airport"].iloc[0])
    line = _with_gaps(days)
    # A bare Figure, not pyplot: no global figure manager to keep, in worker processes too.
    figure = Figure(figsize=(10, 5.2))
    traffic, delay = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    traffic.plot(line["date"], line["flights"], color="#1f77b4", linewidth=1.0, label="flights per day")
    if len(unscored):
        traffic.scatter(
            unscored["date"], unscored["flights"], s=10, facecolors="none", edgecolors="#7f7f7f",
            linewidths=0.7, zorder=2, label="not scored (few flights)",
        )  # fmt: skip
    traffic.scatter(
        anomalous["date"], anomalous["flights"], color=ANOMALY_COLOR, s=28, zorder=3, label="anomalous day"
    )
    for _, day in anomalous.nlargest(LABELLED_DAYS, "score").iterrows():
        cause = cause_label(day)
        traffic.annotate(
            day["date"].strftime("%b %d") + (f": {cause}" if cause else ""),
            (day["date"], day["flights"]),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=8,
            color=ANOMALY_COLOR,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
            zorder=2.5,  # above the line, below the red dots
        )
    traffic.set_ylabel("flights per day")
    traffic.set_ylim(0, max(float(days["flights"].max()) * 1.15, 2.0))
    traffic.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    traffic.legend(loc="upper left", fontsize=8, frameon=True)

    delay.plot(line["date"], line["mean_delay"], color="#7f7f7f", linewidth=0.9, label="mean delay")
    delay.scatter(anomalous["date"], anomalous["mean_delay"], color=ANOMALY_COLOR, s=20, zorder=3)
    delay.axhline(15, color="#ff7f0e", linestyle="--", linewidth=0.8, label="15 min (delayed)")
    low = min(DELAY_AXIS_MINUTES[0], float(np.nanmin(days["mean_delay"])))
    high = max(DELAY_AXIS_MINUTES[1], float(np.nanmax(days["mean_delay"])))
    margin = 0.06 * (high - low)
    delay.set_ylim(low - margin, high + margin)
    delay.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    delay.set_ylabel("mean delay (min)")
    delay.set_xlabel("date (scheduled departure)")
    delay.legend(loc="upper left", fontsize=8, frameon=True)
    # Month starts fixed once: MonthLocator/DateFormatter recompute them through dateutil on
    # every layout pass, a large share of a chart's time.
    months = pd.date_range(days["date"].min().to_period("M").to_timestamp(), days["date"].max(), freq="MS")
    delay.xaxis.set_major_locator(FixedLocator(mdates.date2num(months)))
    delay.xaxis.set_major_formatter(FixedFormatter(months.strftime("%b").tolist()))
    delay.set_xlim(mdates.date2num(days["date"].min()) - 1, mdates.date2num(days["date"].max()) + 1)

    scored = int(days["score"].notna().sum())
    traffic.set_title(
        f"{airport}: daily flights and mean delay, {len(anomalous)} anomalous day(s) of {scored} scored"
        f"{f' ({len(unscored)} not scored)' if len(unscored) else ''}{title_suffix}"
    )
    # Fixed margins: tight_layout would lay the figure out a second time (save_figure's tight
    # bounding box already trims it), a third of the time of a chart.
    figure.subplots_adjust(left=0.07, right=0.98, top=0.88, bottom=0.1, hspace=0.08)
    return save_figure(figure, path, dpi=90, tight=False)  # fixed margins already
