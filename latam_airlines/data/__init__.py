"""Raw sources -> interim table (schema checks, cleaning, derived targets)."""

from latam_airlines.data.calendar import is_high_season, period_of_day
from latam_airlines.data.load import SOURCES, load_raw
from latam_airlines.data.make_dataset import make_dataset
from latam_airlines.data.schema import RAW_COLUMNS, REQUIRED_COLUMNS

__all__ = [
    "RAW_COLUMNS",
    "REQUIRED_COLUMNS",
    "SOURCES",
    "is_high_season",
    "load_raw",
    "make_dataset",
    "period_of_day",
]
