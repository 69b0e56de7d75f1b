"""One chart per airport: flights per day and mean delay per day, anomalous days in red and
labelled with their cause; days listed but not scored (too few flights) drawn hollow.

Every airport's chart follows the same rules: the report's whole date range on the x axis (the
same for every airport of a report, so charts compare at a glance), a gap (no line) on days
without flights, whole numbers of flights on the y axis starting at 0, and a delay axis that
always shows 0 to 30 min.

Charts are most of a report's time, and most of a chart's time is text (matplotlib renders it
glyph by glyph). So one `AirportChart` is built per process and reused:
- what every chart of a report shares (frames, the month axis, axis labels, the legend) is
  rendered once and kept as a pixel buffer (`copy_from_bbox`);
- per airport, that buffer is restored and only the airport's own artists are drawn on it (the
  y axes, lines, dots);
- the airport's own text (title, y tick labels, cause labels) is drawn by Pillow with
  matplotlib's font: one FreeType call per string, and a string seen before (tick values,
  storm dates shared by many airports) is pasted from a cache of rendered masks; then the
  pixels go to PNG.
The legend sits below the axes, never over data, so drawing it first hides nothing.
"""

from __future__ import annotations

import functools
import io
import threading
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib import style
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedFormatter, FixedLocator, MaxNLocator
from PIL import Image, ImageDraw, ImageFont

from latam_airlines.io import atomic_path

ANOMALY_COLOR = "#d62728"
FLIGHTS_COLOR = "#1f77b4"
DELAY_COLOR = "#7f7f7f"
THRESHOLD_COLOR = "#ff7f0e"
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
LABEL_POINTS = 8
# The project's light grid look (seaborn's whitegrid) without importing seaborn (and scipy):
# charts are drawn in worker processes, where that import costs more than a dozen charts.
STYLE = {
    "axes.facecolor": "white",
    "axes.edgecolor": "#cccccc",
    "axes.grid": True,
    "axes.axisbelow": True,
    "axes.labelcolor": "#262626",
    "axes.labelsize": 10,
    "axes.titlesize": 11,
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.9,
    "text.color": "#262626",
    "xtick.color": "#262626",
    "ytick.color": "#262626",
    "xtick.major.size": 0,
    "ytick.major.size": 0,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
}


def cause_label(day: pd.Series) -> str:
    """`mean delay high`, `flights low`, ... for a scored day (empty when it has no cause)."""
    cause = day.get("cause")
    if not isinstance(cause, str):
        return ""
    return f"{CAUSE_LABELS.get(cause, cause)} {day['cause_direction']}"


def with_gaps(days: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every day number from the first to the last of sorted `days`, `values` NaN where the
    airport had no flights: a line then breaks there instead of running across empty weeks."""
    first = int(days[0])
    calendar = np.arange(first, int(days[-1]) + 1, dtype=float)
    filled = np.full(len(calendar), np.nan)
    filled[days.astype(np.int64) - first] = values
    return calendar, filled


class AirportChart:
    """A figure built once and redrawn per airport (see the module docstring)."""

    def __init__(self) -> None:
        with _DRAWING, style.context(_CHART_STYLE):
            # A bare Figure on its own Agg canvas: no pyplot state, no backend to select.
            self.figure = Figure(figsize=(10, 5.2), dpi=DPI)
            self.canvas = FigureCanvasAgg(self.figure)
            self.traffic, self.delay = self.figure.subplots(
                2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]}
            )
            (self.flights_line,) = self.traffic.plot([], [], color=FLIGHTS_COLOR, linewidth=1.0)
            self.unscored = self.traffic.scatter(
                [], [], s=10, facecolors="none", edgecolors=DELAY_COLOR, linewidths=0.7, zorder=2
            )
            self.anomalies = self.traffic.scatter([], [], color=ANOMALY_COLOR, s=28, zorder=3)
            (self.delay_line,) = self.delay.plot([], [], color=DELAY_COLOR, linewidth=0.9)
            self.delay_anomalies = self.delay.scatter([], [], color=ANOMALY_COLOR, s=20, zorder=3)
            self.threshold_line = self.delay.axhline(15, color=THRESHOLD_COLOR, linestyle="--", linewidth=0.8)
            self.traffic.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
            self.delay.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
            # The axis titles are the same for every airport: part of the shared background (the
            # y axes themselves, grid lines per airport, are drawn per chart), at fixed positions.
            for axes, label in ((self.traffic, "flights per day"), (self.delay, "mean delay (min)")):
                axes.text(
                    -0.05, 0.5, label, transform=axes.transAxes, rotation=90, ha="right", va="center",
                    fontsize=STYLE["axes.labelsize"], color=STYLE["axes.labelcolor"],
                )  # fmt: skip
                # Tick labels by Pillow (`_tick_labels`): matplotlib lays out text glyph by glyph.
                axes.yaxis.set_tick_params(labelleft=False)
            legend_handles = [
                Line2D([], [], color=FLIGHTS_COLOR, linewidth=1.0, label="flights per day"),
                Line2D([], [], color=DELAY_COLOR, linewidth=0.9, label="mean delay"),
                Line2D([], [], color=THRESHOLD_COLOR, linestyle="--", linewidth=0.8, label="15 min (delayed)"),
                Line2D([], [], marker="o", linestyle="none", color=ANOMALY_COLOR, markersize=5, label="anomalous day"),
                Line2D(
                    [], [], marker="o", linestyle="none", markerfacecolor="none", markeredgecolor=DELAY_COLOR,
                    markersize=3.5, label="not scored (few flights)",
                ),
            ]  # fmt: skip
            self.figure.legend(
                handles=legend_handles, loc="lower center", ncols=5, frameon=False, bbox_to_anchor=(0.5, 0.0)
            )
            # Fixed margins: a layout engine would measure the figure again for every chart.
            self.figure.subplots_adjust(left=0.075, right=0.985, top=0.88, bottom=0.13, hspace=0.08)
        self.own = [  # drawn per airport, in this order (the cause labels after the hollow dots)
            self.traffic.yaxis, self.delay.yaxis, self.flights_line, self.unscored, self.anomalies,
            self.delay_line, self.threshold_line, self.delay_anomalies,
        ]  # fmt: skip
        for artist in self.own:
            artist.set_animated(True)  # left out of the shared background
        self.labels: list = []
        self.span: tuple[float, float] | None = None
        self.background = None

    def _shared_background(self, first: float, last: float) -> None:
        """Restore the pixels every chart of this date range shares, rendering them on first use."""
        if self.span == (first, last) and self.background is not None:
            self.canvas.restore_region(self.background)
            return
        # Month starts fixed once per range: MonthLocator/DateFormatter recompute them through
        # dateutil on every draw.
        start, end = (pd.Timestamp(mdates.num2date(day)).tz_localize(None) for day in (first, last))
        months = pd.date_range(start.to_period("M").to_timestamp(), end, freq="MS")
        self.delay.xaxis.set_major_locator(FixedLocator(mdates.date2num(months)))
        self.delay.xaxis.set_major_formatter(FixedFormatter(months.strftime("%b").tolist()))
        self.delay.set_xlim(first - 1, last + 1)
        with _DRAWING, style.context(_CHART_STYLE):
            self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)
        self.span = (first, last)

    def png(
        self,
        airport_days: pd.DataFrame,
        title_suffix: str = "",
        span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    ) -> bytes:
        """One airport's days drawn, as PNG bytes; `span` (first, last day) is the x range, the
        report's whole date range (default: this airport's)."""
        days = (
            airport_days if airport_days["date"].is_monotonic_increasing else airport_days.sort_values("date")
        )
        dates = mdates.date2num(days["date"].to_numpy())
        flights = days["flights"].to_numpy(dtype=float)
        delays = days["mean_delay"].to_numpy(dtype=float)
        scores = days["score"].to_numpy(dtype=float)
        anomalous = days["is_anomaly"].to_numpy(dtype=bool)
        unscored = np.isnan(scores)
        first, last = (dates[0], dates[-1]) if span is None else tuple(mdates.date2num(list(span)))
        calendar, flights_filled = with_gaps(dates, flights)
        _, delays_filled = with_gaps(dates, delays)
        self.flights_line.set_data(calendar, flights_filled)
        self.delay_line.set_data(calendar, delays_filled)
        self.unscored.set_offsets(np.column_stack([dates[unscored], flights[unscored]]))
        self.anomalies.set_offsets(np.column_stack([dates[anomalous], flights[anomalous]]))
        self.delay_anomalies.set_offsets(np.column_stack([dates[anomalous], delays[anomalous]]))
        self.traffic.set_ylim(0, max(float(flights.max()) * 1.15, 2.0))
        low = min(DELAY_AXIS_MINUTES[0], float(np.nanmin(delays)))
        high = max(DELAY_AXIS_MINUTES[1], float(np.nanmax(delays)))
        margin = 0.06 * (high - low)
        self.delay.set_ylim(low - margin, high + margin)
        airport = str(days["airport"].iloc[0])
        scored = int((~unscored).sum())
        title = (
            f"{airport}: daily flights and mean delay, {int(anomalous.sum())} anomalous day(s) of {scored} scored"
            f"{f' ({int(unscored.sum())} not scored)' if unscored.any() else ''}{title_suffix}"
        )
        with _DRAWING, style.context(_CHART_STYLE):
            self._shared_background(float(first), float(last))
            renderer = self.canvas.get_renderer()
            for artist in self.own:
                artist.draw(renderer)
        image = self._image()
        draw = ImageDraw.Draw(image)
        self._title(draw, title)
        self._tick_labels(image)
        self._cause_labels(image, days[anomalous], first, last)
        buffer = io.BytesIO()
        # zlib level 1: encoding is a good part of a chart's time; files somewhat larger.
        image.save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def _image(self) -> Image.Image:
        """The canvas as an RGB image (a copy: the canvas is restored for the next airport)."""
        width, height = self.canvas.get_width_height()
        return Image.frombuffer(
            "RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1
        ).convert("RGB")

    def _pixels(self, axes, x: float, y: float) -> tuple[float, float]:
        """Data point of `axes` -> Pillow pixel (origin top left; matplotlib's is bottom left)."""
        column, row = axes.transData.transform((x, y))
        return float(column), self.canvas.get_width_height()[1] - float(row)

    def _title(self, draw: ImageDraw.ImageDraw, text: str) -> None:
        left, _, width, height = self.traffic.bbox.bounds
        top = self.canvas.get_width_height()[1] - (self.traffic.bbox.y0 + height)
        draw.multiline_text(
            (left + width / 2, top - points_to_pixels(4)), text, font=_font(STYLE["axes.titlesize"]),
            fill=STYLE["text.color"], anchor="md", align="center",
        )  # fmt: skip

    def _tick_labels(self, image: Image.Image) -> None:
        """Each y axis's tick values, right-aligned left of the axes, as matplotlib places them."""
        pad = points_to_pixels(3.5)
        height = self.canvas.get_width_height()[1]
        for axes in (self.traffic, self.delay):
            low, high = axes.get_ylim()
            ticks = [tick for tick in axes.yaxis.get_majorticklocs() if low <= tick <= high]
            labels = axes.yaxis.get_major_formatter().format_ticks(ticks)
            left = axes.bbox.x0 - pad
            for tick, label in zip(ticks, labels):
                row = height - float(axes.transData.transform((0.0, tick))[1])
                _paste_text(image, (left, row), label, STYLE["ytick.labelsize"], STYLE["ytick.color"], "rm")

    def _cause_labels(self, image: Image.Image, anomalous: pd.DataFrame, first: float, last: float) -> None:
        """Date and cause beside the dots of the airport's highest-scoring anomalous days; those in
        the last fifth of the range to the left of their dot (not cut off at the edge)."""
        late = first + (last - first) * 0.8
        offset = points_to_pixels(4)
        for _, day in anomalous.nlargest(LABELLED_DAYS, "score").iterrows():
            x = float(mdates.date2num(day["date"]))
            column, row = self._pixels(self.traffic, x, float(day["flights"]))
            cause = cause_label(day)
            left = x > late
            _paste_text(
                image, (column - offset if left else column + offset, row - offset),
                day["date"].strftime("%b %d") + (f": {cause}" if cause else ""),
                LABEL_POINTS, ANOMALY_COLOR, "rs" if left else "ls",
                halo=2,  # white around the letters: readable over the line
            )  # fmt: skip


def points_to_pixels(points: float) -> float:
    return points * DPI / 72


@functools.lru_cache(maxsize=4096)
def _text_masks(text: str, points: float, anchor: str, halo: int) -> tuple:
    """`text` rendered once as grey-level masks (the letters, and with `halo` their outline
    widened by that many pixels) and where they sit from the anchor point."""
    font = _font(points)
    left, top, right, bottom = font.getbbox(text, anchor=anchor, stroke_width=halo)
    size = (max(1, right - left), max(1, bottom - top))
    masks = []
    for stroke in (halo, 0) if halo else (0,):
        mask = Image.new("L", size, 0)
        ImageDraw.Draw(mask).text(
            (-left, -top), text, font=font, fill=255, anchor=anchor, stroke_width=stroke, stroke_fill=255
        )
        masks.append(mask)
    return (left, top), masks


def _paste_text(
    image: Image.Image,
    at: tuple[float, float],
    text: str,
    points: float,
    color: str,
    anchor: str,
    halo: int = 0,
) -> None:
    """Draw `text` at `at` (pixels, anchored as Pillow's `anchor`), in `color`, with a white
    halo of `halo` pixels under it; from the mask cache (`_text_masks`)."""
    (left, top), masks = _text_masks(text, points, anchor, halo)
    box = (round(at[0]) + left, round(at[1]) + top)
    colors = ("white", color) if halo else (color,)
    for fill, mask in zip(colors, masks):
        image.paste(fill, box, mask)


# From matplotlib's defaults, not the caller's rcParams (seaborn's theme, a notebook's style):
# a chart is the same whichever process draws it (a spawned Dask worker has neither).
_CHART_STYLE = ("default", STYLE)

# style.context sets matplotlib's global rcParams for the block and restores them after: threads
# drawing at once take turns for the matplotlib part (re-entrant: a chart's first draw nests).
_DRAWING = threading.RLock()

# One reused figure and one set of fonts per thread: Dask workers may be threads of one
# process (`--worker-start threads`); two charts drawn at once on one figure would mix, and a
# FreeType face is not to be used by two threads at once.
_PER_THREAD = threading.local()


def _font(points: float) -> ImageFont.FreeTypeFont:
    """matplotlib's own DejaVu Sans at `points`, for Pillow (one FreeType call per string)."""
    fonts = _PER_THREAD.__dict__.setdefault("fonts", {})
    if points not in fonts:
        from matplotlib import font_manager

        path = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"))
        fonts[points] = ImageFont.truetype(path, round(points_to_pixels(points)))
    return fonts[points]


def airport_png(
    airport_days: pd.DataFrame,
    title_suffix: str = "",
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> bytes:
    """The chart of one airport's days (`airport, date, flights, mean_delay, score,
    is_anomaly`, optionally `cause`, `cause_direction`) as PNG bytes; `span` is the x range
    (first, last day; default: the airport's own days). One figure per thread, reused."""
    chart = getattr(_PER_THREAD, "chart", None)
    if chart is None:
        chart = _PER_THREAD.chart = AirportChart()
    return chart.png(airport_days, title_suffix, span)


def plot_airport_days(
    airport_days: pd.DataFrame,
    path: str | Path,
    title_suffix: str = "",
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> Path:
    """Save the chart of one airport's days (see `airport_png`) as a PNG at `path`, atomically."""
    target = Path(path)
    with atomic_path(target) as temporary:
        temporary.write_bytes(airport_png(airport_days, title_suffix, span))
    return target
