"""The distributed engine (`latam anomalies --engine dask`): the year's file(s) read, aggregated
into airport-days and scored on a Dask cluster, with the same functions as the in-process engine.

- read: `dask.dataframe` over every file of the year (CSV or Parquet, a partitioned Parquet
  folder too; local or any fsspec URL such as s3://), mapped per partition to the four columns
  the job needs (`Fecha-I, Ori-I, Des-I, dif_min`) by the same adapters;
- aggregate: one row per flight and side, shuffled so that each airport's rows share a
  partition, then `aggregate_airport_days` on each partition;
- score: `score_and_explain` on each partition (whole airports, seeded per airport), on the
  workers; only airport-days (not flights) come back to the client, which sets the threshold.

Results equal the in-process engine's for the same seed: every airport-day figure depends only
on that day's flights, every score only on that airport's days and the seed.

`scheduler=None` starts a `LocalCluster` (`workers` processes, one thread each, on 127.0.0.1)
for the run; otherwise `scheduler` is the address of a running cluster, whose workers must have
this package installed. Install with `pip install -e ".[dask]"`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import numpy as np
import pandas as pd

from latam_airlines.anomalies.daily import SIDES, aggregate_airport_days, airport_side_rows
from latam_airlines.anomalies.scoring import SCORE_COLUMNS, ScoringSettings, score_and_explain
from latam_airlines.anomalies.sources import INTERIM_COLUMNS, locate_year
from latam_airlines.errors import InputError
from latam_airlines.io import is_parquet, is_url, s3_options, table_columns

log = logging.getLogger(__name__)

DAILY_COLUMNS = ["airport", "date", "flights", "mean_delay", "delayed_share", "p90_delay"]


def _dask():
    try:
        import dask.dataframe as dd
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError('--engine dask needs Dask: pip install -e ".[dask]"') from None
    return dd, Client, LocalCluster


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int = 2) -> Iterator:
    """A client of the cluster at `scheduler`, or of a LocalCluster started (and closed) here."""
    _, Client, LocalCluster = _dask()
    if scheduler:
        try:
            client = Client(scheduler, timeout="5s")
        except OSError as error:
            raise InputError(
                f"cannot reach the Dask scheduler ({error})", column="--scheduler", value=scheduler
            ) from None
        with client:
            yield client
        return
    cluster = LocalCluster(
        n_workers=max(1, int(workers)),
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",  # a free port: other clusters may hold 8787
        memory_limit=0,  # the machine's memory is the limit; the benchmark measures the peak
    )
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def _flight_columns(part: pd.DataFrame, layout: str, path: str) -> pd.DataFrame:
    """One partition of a file, in any layout the job reads -> the four columns, `year` added."""
    if layout == "interim":
        frame = part[list(INTERIM_COLUMNS)].copy()
        if not pd.api.types.is_datetime64_any_dtype(frame["Fecha-I"]):
            frame["Fecha-I"] = pd.to_datetime(frame["Fecha-I"], errors="coerce", format="mixed")
        frame["dif_min"] = pd.to_numeric(frame["dif_min"], errors="coerce")
    elif layout == "us2001":
        from latam_airlines.data.us2001 import us2001_flights

        frame = us2001_flights(part, file=path)
    else:
        from latam_airlines.data import make_dataset

        raw = part.copy()
        raw.attrs["source"] = path
        interim = make_dataset(raw) if len(raw) else None
        frame = interim[list(INTERIM_COLUMNS)] if interim is not None else _empty_flights()
        # make_dataset drops exact duplicates, but only within this partition: a hash of each
        # whole interim row lets the caller drop those repeated across partitions too.
        row = pd.util.hash_pandas_object(interim, index=False) if interim is not None else []
        frame = frame.assign(row=pd.Series(row, index=frame.index, dtype="uint64"))
    frame = frame.astype({"Ori-I": "string", "Des-I": "string"}).astype({"Fecha-I": "datetime64[ns]"})
    return frame.assign(year=frame["Fecha-I"].dt.year.astype("Int32"))


def _empty_flights() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Fecha-I": pd.Series(dtype="datetime64[ns]"),
            "Ori-I": pd.Series(dtype="string"),
            "Des-I": pd.Series(dtype="string"),
            "dif_min": pd.Series(dtype=float),
        }
    )


def _layout(columns: list[str]) -> str:
    from latam_airlines.data.us2001 import is_us2001

    if all(column in columns for column in INTERIM_COLUMNS):
        return "interim"
    return "us2001" if is_us2001(columns) else "raw"


def read_flights_dask(paths: tuple[str, ...], blocksize: str = "64MB"):
    """The files of a year as one lazy Dask frame of `Fecha-I, Ori-I, Des-I, dif_min, year`."""
    dd, _, _ = _dask()
    meta = _empty_flights().assign(year=pd.Series(dtype="Int32"))
    frames = []
    for path in paths:
        layout = _layout(table_columns(path))
        if layout == "interim":
            columns = list(INTERIM_COLUMNS)
        elif layout == "us2001":
            from latam_airlines.data.us2001 import US2001_COLUMNS

            columns = list(US2001_COLUMNS)
        else:
            columns = None  # raw SCL: make_dataset needs the whole row
        options = s3_options() if is_url(path) and path.startswith(("s3://", "s3a://")) else None
        if is_parquet(path):
            source = dd.read_parquet(path, columns=columns, storage_options=options)
        else:
            dtypes = {"Vlo-I": "string", "Vlo-O": "string"} if layout == "raw" else None
            source = dd.read_csv(
                path,
                usecols=columns,
                blocksize=blocksize,
                dtype=dtypes,
                encoding="utf-8-sig",
                assume_missing=True,
                storage_options=options,
            )
        if layout == "raw":
            # Exact duplicate rows anywhere in the file count once, as the in-process engine
            # (make_dataset on the whole file) counts them.
            rows = source.map_partitions(
                _flight_columns,
                layout,
                path,
                meta=_empty_flights().assign(row=pd.Series(dtype="uint64"), year=pd.Series(dtype="Int32")),
            )
            frames.append(
                rows.drop_duplicates(subset=["row"], split_out=rows.npartitions).drop(columns="row")
            )
        else:
            frames.append(source.map_partitions(_flight_columns, layout, path, meta=meta))
    return frames[0] if len(frames) == 1 else dd.concat(frames)


def _value_counts(values: pd.Series) -> pd.Series:
    return values.dropna().value_counts()


def _gather_counts(client, column) -> dict:
    """Value counts of a Dask column, counted per partition on the workers, added up here
    (no shuffle: the distinct values are few)."""
    parts = column.map_partitions(_value_counts, meta=pd.Series(dtype="int64", name="count")).compute()
    return {key: int(value) for key, value in parts.groupby(level=0).sum().items()}


def _airports_per_side(part: pd.DataFrame) -> pd.DataFrame:
    """The distinct airport values of each side in one partition: as written (`raw`, what
    `choose_sides` counts) and as the airport-day rows name them (`code`, stripped)."""
    found = []
    for side, column in SIDES.items():
        found.append(
            pd.DataFrame({"side": side, "kind": "raw", "airport": part[column].dropna().astype(str).unique()})
        )
        codes = airport_side_rows(part, [side])["airport"].unique()
        found.append(pd.DataFrame({"side": side, "kind": "code", "airport": np.asarray(codes, dtype=object)}))
    return pd.concat(found, ignore_index=True).astype(object)


def _side_codes(part: pd.DataFrame, sides: list[str], airports: list[str]) -> pd.DataFrame:
    """One row per flight and side as small numbers (airport's index in `airports`, day number,
    delay): what is shuffled between workers is then a tenth of the bytes of strings and dates."""
    long = airport_side_rows(part, sides)
    return pd.DataFrame(
        {
            "airport": pd.Categorical(long["airport"].astype(object), categories=airports).codes.astype(
                "int32"
            ),
            "day": long["date"].to_numpy().astype("datetime64[D]").astype("int32"),
            "delay": long["delay"].to_numpy(dtype=float),
        }
    )


def _daily_partition(long: pd.DataFrame, airports: list[str]) -> pd.DataFrame:
    if long.empty:
        return _empty_daily()
    named = pd.DataFrame(
        {
            "airport": pd.Categorical.from_codes(long["airport"].to_numpy(), categories=airports),
            "date": long["day"].to_numpy().astype("datetime64[D]").astype("datetime64[ns]"),
            "delay": long["delay"].to_numpy(),
        }
    )
    daily = aggregate_airport_days(named)[DAILY_COLUMNS]
    return daily.astype({"airport": object})


def _empty_daily() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "airport": pd.Series(dtype=object),
            "date": pd.Series(dtype="datetime64[ns]"),
            "flights": pd.Series(dtype="int64"),
            "mean_delay": pd.Series(dtype=float),
            "delayed_share": pd.Series(dtype=float),
            "p90_delay": pd.Series(dtype=float),
        }
    )


def _score_partition(daily: pd.DataFrame, settings: ScoringSettings) -> pd.DataFrame:
    daily = daily.sort_values(["airport", "date"]).reset_index(drop=True)
    scored = score_and_explain(daily, settings, n_jobs=1) if len(daily) else _empty_scores()
    return pd.concat([daily, scored.reset_index(drop=True)], axis=1)


def _empty_scores() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series(dtype=float) for column in SCORE_COLUMNS})
    frame["status"] = pd.Series(dtype=object)
    return frame


def dask_airport_days(
    location: str,
    year: str | int,
    by: str,
    settings: ScoringSettings,
    client,
) -> tuple[pd.DataFrame, pd.DataFrame, int, int]:
    """The year's airport-days, scored on the cluster of `client`: `(daily, scored, year,
    flights)`, `daily` and `scored` row-aligned and sorted by airport and date as the
    in-process engine's `daily_airport_table` and `score_and_explain` give them."""
    from latam_airlines.anomalies.daily import GROUPINGS

    if by not in GROUPINGS:
        raise InputError(f"expected one of {', '.join(GROUPINGS)}", column="--by", value=by)
    chosen = locate_year(location, year)
    # Read once, kept on the workers: the year is chosen, and its flights aggregated, from memory.
    flights = client.persist(read_flights_dask(chosen.paths))
    per_year = _gather_counts(client, flights["year"])
    if not per_year:
        raise InputError("the table has no rows with a date", file=", ".join(chosen.paths))
    target = max(per_year) if chosen.year is None else chosen.year
    if target not in per_year:
        raise InputError(
            f"no flights scheduled in this year; years present: {', '.join(map(str, sorted(per_year)))}",
            file=", ".join(chosen.paths),
            value=target,
        )
    count = per_year[target]
    flights = flights[flights["year"] == target].drop(columns="year")
    # The airports of each side in one pass over the flights (they are few: codes, not rows).
    found = flights.map_partitions(
        _airports_per_side,
        meta=pd.DataFrame({name: pd.Series(dtype=object) for name in ("side", "kind", "airport")}),
    ).compute()

    def distinct(side: str, kind: str) -> set:
        return set(found.loc[(found["side"] == side) & (found["kind"] == kind), "airport"])

    if by == "auto":  # as choose_sides decides
        sides = [side for side in SIDES if len(distinct(side, "raw")) > 1] or list(SIDES)
    else:
        sides = list(SIDES) if by == "both" else [by]
    airports = sorted(set().union(*(distinct(side, "code") for side in sides)))
    meta_long = pd.DataFrame(
        {
            "airport": pd.Series(dtype="int32"),
            "day": pd.Series(dtype="int32"),
            "delay": pd.Series(dtype=float),
        }
    )
    long = flights.map_partitions(_side_codes, sides, airports, meta=meta_long)
    partitions = max(1, len(client.scheduler_info(n_workers=-1)["workers"])) * 8
    by_airport = long.shuffle("airport", npartitions=partitions)  # each airport's rows in one partition
    daily = by_airport.map_partitions(_daily_partition, airports, meta=_empty_daily())
    meta_scored = pd.concat([_empty_daily(), _empty_scores()], axis=1)
    scored = daily.map_partitions(_score_partition, settings, meta=meta_scored).compute()
    scored = scored.sort_values(["airport", "date"], kind="stable").reset_index(drop=True)
    if scored.empty:
        raise InputError("no flights with an airport code and a delay", file=", ".join(chosen.paths))
    scored["flights"] = scored["flights"].astype("int64")
    daily_table = scored[DAILY_COLUMNS].copy()
    scores = scored[SCORE_COLUMNS + ["status"]].copy()
    return daily_table, scores, target, int(count)


__all__ = ["dask_airport_days", "dask_client", "read_flights_dask"]
