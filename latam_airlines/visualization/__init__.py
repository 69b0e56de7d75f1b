"""Every figure of the project (matplotlib/seaborn), written as PNG under reports/figures/."""

from latam_airlines.visualization.figures import save_figure

__all__ = ["save_figure"]
