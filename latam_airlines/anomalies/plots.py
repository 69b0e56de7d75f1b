"""One chart per airport: flights per day and mean delay per day, anomalous days in red and
labelled with their cause; days listed but not scored (too few flights) drawn hollow.

Every airport's chart follows the same rules: a gap (no line) on days without flights, whole
numbers of flights on the y axis starting at 0, and a delay axis that always shows 0 to 30 min.

Charts are most of a report's time, so one `AirportChart` (figure, axes, lines, legends) is
built once per process and redrawn for each airport with new data, instead of a new figure
per airport (the axes, ticks and legends are then laid out once).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, MaxNLocator

from latam_airlines.io import atomic_path

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
DPI = 80


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


def _points(dates: pd.Series, values: pd.Series) -> np.ndarray:
    return np.column_stack([mdates.date2num(dates), values.to_numpy(dtype=float)]).reshape(-1, 2)


class AirportChart:
    """A figure drawn once and refilled per airport (see the module docstring)."""

    def __init__(self) -> None:
        # A bare Figure, not pyplot: no global figure manager to keep, in worker processes too.
        self.figure = Figure(figsize=(10, 5.2))
        self.traffic, self.delay = self.figure.subplots(
            2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]}
        )
        (self.flights_line,) = self.traffic.plot(
            [], [], color="#1f77b4", linewidth=1.0, label="flights per day"
        )
        self.unscored = self.traffic.scatter(
            [], [], s=10, facecolors="none", edgecolors="#7f7f7f", linewidths=0.7, zorder=2,
            label="not scored (few flights)",
        )  # fmt: skip
        self.anomalies = self.traffic.scatter(
            [], [], color=ANOMALY_COLOR, s=28, zorder=3, label="anomalous day"
        )
        self.traffic.set_ylabel("flights per day")
        self.traffic.legend(loc="upper left", fontsize=8, frameon=True)
        self.traffic.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
        (self.delay_line,) = self.delay.plot([], [], color="#7f7f7f", linewidth=0.9, label="mean delay")
        self.delay_anomalies = self.delay.scatter([], [], color=ANOMALY_COLOR, s=20, zorder=3)
        self.delay.axhline(15, color="#ff7f0e", linestyle="--", linewidth=0.8, label="15 min (delayed)")
        self.delay.set_ylabel("mean delay (min)")
        self.delay.set_xlabel("date (scheduled departure)")
        self.delay.legend(loc="upper left", fontsize=8, frameon=True)
        self.delay.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
        # A fixed title position: matplotlib otherwise measures every axis to place it.
        self.title = self.traffic.set_title("", y=1.0, pad=4)
        self.labels: list = []
        # Fixed margins: tight_layout would lay the figure out a second time.
        self.figure.subplots_adjust(left=0.07, right=0.98, top=0.88, bottom=0.1, hspace=0.08)

    def draw(self, airport_days: pd.DataFrame, path: str | Path, title_suffix: str = "") -> Path:
        days = airport_days.sort_values("date")
        anomalous = days[days["is_anomaly"]]
        unscored = days[days["score"].isna()]
        airport = str(days["airport"].iloc[0])
        line = _with_gaps(days)
        self.flights_line.set_data(line["date"], line["flights"])
        self.unscored.set_offsets(_points(unscored["date"], unscored["flights"]))
        self.anomalies.set_offsets(_points(anomalous["date"], anomalous["flights"]))
        self.delay_line.set_data(line["date"], line["mean_delay"])
        self.delay_anomalies.set_offsets(_points(anomalous["date"], anomalous["mean_delay"]))
        for label in self.labels:
            label.remove()
        first, last = days["date"].min(), days["date"].max()
        # Labels of days in the last fifth of the range go to the left of their dot: not cut off.
        late = first + (last - first) * 0.8
        self.labels = [
            self.traffic.annotate(
                day["date"].strftime("%b %d") + (f": {cause_label(day)}" if cause_label(day) else ""),
                (mdates.date2num(day["date"]), day["flights"]),
                xytext=(-4, 4) if day["date"] > late else (4, 4),
                horizontalalignment="right" if day["date"] > late else "left",
                textcoords="offset points",
                fontsize=8,
                color=ANOMALY_COLOR,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
                zorder=2.5,  # above the line, below the red dots
            )
            for _, day in anomalous.nlargest(LABELLED_DAYS, "score").iterrows()
        ]
        self.traffic.set_ylim(0, max(float(days["flights"].max()) * 1.15, 2.0))
        low = min(DELAY_AXIS_MINUTES[0], float(np.nanmin(days["mean_delay"])))
        high = max(DELAY_AXIS_MINUTES[1], float(np.nanmax(days["mean_delay"])))
        margin = 0.06 * (high - low)
        self.delay.set_ylim(low - margin, high + margin)
        # Month starts fixed once per chart: MonthLocator/DateFormatter recompute them through
        # dateutil on every layout pass.
        months = pd.date_range(first.to_period("M").to_timestamp(), last, freq="MS")
        self.delay.xaxis.set_major_locator(FixedLocator(mdates.date2num(months)))
        self.delay.xaxis.set_major_formatter(FixedFormatter(months.strftime("%b").tolist()))
        self.delay.set_xlim(mdates.date2num(first) - 1, mdates.date2num(last) + 1)
        scored = int(days["score"].notna().sum())
        self.title.set_text(
            f"{airport}: daily flights and mean delay, {len(anomalous)} anomalous day(s) of {scored} scored"
            f"{f' ({len(unscored)} not scored)' if len(unscored) else ''}{title_suffix}"
        )
        target = Path(path)
        with atomic_path(target) as temporary:
            # zlib level 1: a tenth of a chart's time saved, files about 20 % larger.
            self.figure.savefig(temporary, dpi=DPI, format="png", pil_kwargs={"compress_level": 1})
        return target


_CHART: AirportChart | None = None


def plot_airport_days(airport_days: pd.DataFrame, path: str | Path, title_suffix: str = "") -> Path:
    """Save the chart of one airport's days (`airport, date, flights, mean_delay, score,
    is_anomaly`, optionally `cause`, `cause_direction`) as a PNG at `path`."""
    global _CHART
    if _CHART is None:
        import latam_airlines.visualization  # noqa: F401 - the headless backend and the style

        _CHART = AirportChart()
    return _CHART.draw(airport_days, path, title_suffix)
