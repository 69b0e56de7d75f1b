"""One chart per airport: flights per day (line) and mean delay per day, anomalous days in red."""

from __future__ import annotations

from pathlib import Path

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator

from latam_airlines.visualization import save_figure

ANOMALY_COLOR = "#d62728"
LABELLED_DAYS = 5  # the highest-scoring anomalous days get their date written beside the dot


def plot_airport_days(airport_days: pd.DataFrame, path: str | Path, title_suffix: str = "") -> Path:
    """Save the chart of one airport's days (`date, flights, mean_delay, score, is_anomaly`)."""
    days = airport_days.sort_values("date")
    anomalous = days[days["is_anomaly"]]
    airport = str(days["airport"].iloc[0])
    # A bare Figure, not pyplot: no global figure manager to keep, in worker processes too.
    figure = Figure(figsize=(10, 5.2))
    traffic, delay = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    traffic.plot(days["date"], days["flights"], color="#1f77b4", linewidth=1.0, label="flights per day")
    traffic.scatter(
        anomalous["date"], anomalous["flights"], color=ANOMALY_COLOR, s=28, zorder=3, label="anomalous day"
    )
    for _, day in anomalous.nlargest(LABELLED_DAYS, "score").iterrows():
        traffic.annotate(
            day["date"].strftime("%b %d"),
            (day["date"], day["flights"]),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=8,
            color=ANOMALY_COLOR,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
            zorder=2.5,  # above the line, below the red dots
        )
    traffic.set_ylabel("flights per day")
    traffic.legend(loc="upper left", fontsize=8, frameon=True)

    delay.plot(days["date"], days["mean_delay"], color="#7f7f7f", linewidth=0.9, label="mean delay")
    delay.scatter(anomalous["date"], anomalous["mean_delay"], color=ANOMALY_COLOR, s=20, zorder=3)
    delay.axhline(15, color="#ff7f0e", linestyle="--", linewidth=0.8, label="15 min (delayed)")
    delay.set_ylabel("mean delay (min)")
    delay.set_xlabel("date (scheduled departure)")
    delay.legend(loc="upper left", fontsize=8, frameon=True)
    # Month starts fixed once: MonthLocator/DateFormatter recompute them through dateutil on
    # every layout pass, a large share of a chart's time.
    months = pd.date_range(days["date"].min().to_period("M").to_timestamp(), days["date"].max(), freq="MS")
    delay.xaxis.set_major_locator(FixedLocator(mdates.date2num(months)))
    delay.xaxis.set_major_formatter(FixedFormatter(months.strftime("%b").tolist()))

    traffic.set_title(
        f"{airport}: daily flights and mean delay, {len(anomalous)} anomalous day(s) of {len(days)}{title_suffix}"
    )
    # Fixed margins: tight_layout would lay the figure out a second time (save_figure's tight
    # bounding box already trims it), a third of the time of a chart.
    figure.subplots_adjust(left=0.07, right=0.98, top=0.88, bottom=0.1, hspace=0.08)
    return save_figure(figure, path, dpi=90, tight=False)  # fixed margins already
