"""Every figure of the project (matplotlib/seaborn), written as PNG under reports/figures/."""

from latam_airlines.visualization.eda import (
    delay_rates,
    flight_counts,
    plot_delay_minutes,
    plot_delay_rate,
    plot_flight_counts,
    save_eda_figures,
)
from latam_airlines.visualization.figures import save_figure

__all__ = [
    "delay_rates",
    "flight_counts",
    "plot_delay_minutes",
    "plot_delay_rate",
    "plot_flight_counts",
    "save_eda_figures",
    "save_figure",
]
