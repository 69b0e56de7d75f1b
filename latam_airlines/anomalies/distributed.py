"""The distributed engine (`latam anomalies --engine dask`): the year's file(s) read, aggregated
into airport-days and scored on a Dask cluster, with the same functions as the in-process engine.

- read: on the workers, every file of the year (CSV or Parquet, a partitioned Parquet folder
  too; local or any fsspec URL such as s3://), mapped per partition to the four columns the
  job needs (`Fecha-I, Ori-I, Des-I, dif_min`) by the same adapters. Parquet is read one row
  group per task with pyarrow, airport codes as dictionary columns, as the in-process engine
  reads it (`dask.dataframe` would make a Python string per flight first); CSV, raw SCL rows
  and folders partitioned by a needed column go through `dask.dataframe`;
- count and split: each partition, where it was read, counted per side into its distinct
  (airport, day, whole-minute delay) and their flights (`delay_counts`: a third to a fifth of
  the rows, in narrow types; fractional delays stay one row per flight), split into pieces
  per side and airport batch (an airport's batch is a hash of its code), plus a small summary
  (flights per year, each side's airports) from which the year and the sides are picked;
- aggregate and score: one task per airport batch takes every partition's split (a worker
  fetches each of another worker's splits once), picks the year and the sides from their
  summaries, keeps its pieces (the year's days only), makes its airport-days with
  `aggregate_airport_days` from the counts
  (the same figures as from the flights, to the last bit) and scores them with
  `score_and_explain` (whole airports, seeded per airport). Only the counts and the
  airport-days (not flights) travel; the client sets the threshold.

A few coarse batches per worker instead of a `dask.dataframe` shuffle and per-partition
graph: on a 2-core machine the shuffle's tasks, the extra passes over the persisted flights
and their serialisation cost more than the work (reports/anomalies_scale.md).

Results equal the in-process engine's for the same seed: every airport-day figure depends only
on that day's flights, every score only on that airport's days and the seed.

`scheduler=None` starts a `LocalCluster` (`workers` processes, one thread each, on 127.0.0.1)
for the run, its worker processes started as `worker_start` says (`WORKER_STARTS`); otherwise
`scheduler` is the address of a running cluster, whose workers must have this package
installed. Install with `pip install -e ".[dask]"`.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import zlib
from collections.abc import Iterator

import numpy as np
import pandas as pd

from latam_airlines.anomalies.daily import (
    SIDES,
    aggregate_airport_days,
    airport_side_rows,
    day_numbers,
    delay_counts,
)
from latam_airlines.anomalies.scoring import SCORE_COLUMNS, ScoringSettings, score_and_explain
from latam_airlines.anomalies.sources import INTERIM_COLUMNS, locate_year
from latam_airlines.errors import InputError
from latam_airlines.io import is_parquet, is_url, s3_options, table_columns

log = logging.getLogger(__name__)

DAILY_COLUMNS = ["airport", "date", "flights", "mean_delay", "delayed_share", "p90_delay"]
# Airport batches per worker: coarse tasks (one forest per airport, no per-row tasks), and
# enough of them to balance airports of very different sizes.
BATCHES_PER_WORKER = 4


def _dask(dataframe: bool = False):
    """dask.distributed's Client and LocalCluster, and `dask.dataframe` only when asked: its
    import costs the client about a CPU second, and Parquet is read without it."""
    try:
        from dask.distributed import Client, LocalCluster

        dd = None
        if dataframe:
            import dask.dataframe as dd
    except ImportError:
        raise InputError('--engine dask needs Dask: pip install -e ".[dask]"') from None
    return dd, Client, LocalCluster


# How the worker processes of a LocalCluster started for a run begin (`anomalies.worker_start`):
# - fork: copies of this process, with the modules the tasks need already imported here (once);
# - forkserver: forked from a server process that imported those modules once;
# - spawn: fresh interpreters, each importing distributed, pandas, pyarrow, krcf, matplotlib;
# - threads: no worker processes, the workers are threads of this process (one GIL).
WORKER_STARTS = ("fork", "forkserver", "spawn", "threads")

# What a worker's tasks import (reading, aggregating, scoring, charts).
WORKER_MODULES = (
    "pandas",
    "pyarrow.parquet",
    "krcf",
    "latam_airlines.anomalies.distributed",
    "latam_airlines.data.us2001",
    "latam_airlines.anomalies.scoring",
    "latam_airlines.anomalies.report",
)


def _prepare_start(start: str) -> None:
    """Import the workers' modules where `start` lets the workers share one import."""
    import importlib

    if start == "fork":
        for name in WORKER_MODULES:
            with contextlib.suppress(ImportError):  # krcf is only needed for --method krcf
                importlib.import_module(name)
    elif start == "forkserver":
        from distributed.utils import get_mp_context

        get_mp_context()  # distributed sets its own preload list once; this one replaces it
        multiprocessing.get_context("forkserver").set_forkserver_preload(["distributed", *WORKER_MODULES])


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int = 2, worker_start: str = "fork") -> Iterator:
    """A client of the cluster at `scheduler`, or of a LocalCluster started (and closed) here
    whose workers start as `worker_start` says (`WORKER_STARTS`)."""
    if worker_start not in WORKER_STARTS:
        raise InputError(
            f"expected one of {', '.join(WORKER_STARTS)}", column="--worker-start", value=worker_start
        )
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
    if worker_start != "threads" and worker_start not in multiprocessing.get_all_start_methods():
        raise InputError(
            f"this platform cannot start processes by {worker_start}; use one of "
            f"{', '.join(multiprocessing.get_all_start_methods())} or threads",
            column="--worker-start",
            value=worker_start,
        )
    import dask

    # The workers' statistical profiler samples every thread's stack 100 times a second (for
    # the dashboard): CPU a short batch job on a few cores would rather spend on its work.
    # Distributed starts workers with MALLOC_TRIM_THRESHOLD_ set (freed memory returned to the
    # OS at once, for long-lived workers): glibc then maps and unmaps every large array again,
    # ~40 % more CPU for this job's pandas/NumPy work; a run's cluster is closed when it ends.
    quiet = {
        "distributed.worker.profile.enabled": False,
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,  # None: not set
    }
    processes = worker_start != "threads"
    if processes:
        quiet["distributed.worker.multiprocessing-method"] = worker_start
    with dask.config.set(quiet):
        _prepare_start(worker_start)
        cluster = LocalCluster(
            n_workers=max(1, int(workers)),
            threads_per_worker=1,
            processes=processes,
            # worker threads talk to the scheduler in memory (inproc://), processes over TCP
            host="127.0.0.1" if processes else None,
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

        frame = us2001_flights(part.astype({"origin": "category", "destination": "category"}), file=path)
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
    # Airport codes as categories (a few codes, not a string per row), except for raw files,
    # whose rows are compared across partitions to drop duplicates.
    codes = "string" if layout == "raw" else "category"
    frame = frame.astype({"Ori-I": codes, "Des-I": codes}).astype({"Fecha-I": "datetime64[ns]"})
    return frame.assign(year=frame["Fecha-I"].dt.year.astype("Int32"))


def _empty_flights(codes: str = "string") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Fecha-I": pd.Series(dtype="datetime64[ns]"),
            "Ori-I": pd.Series(dtype=codes),
            "Des-I": pd.Series(dtype=codes),
            "dif_min": pd.Series(dtype=float),
        }
    )


def _layout(columns: list[str]) -> str:
    from latam_airlines.data.us2001 import is_us2001

    if all(column in columns for column in INTERIM_COLUMNS):
        return "interim"
    return "us2001" if is_us2001(columns) else "raw"


def _needed_columns(layout: str) -> list[str] | None:
    if layout == "interim":
        return list(INTERIM_COLUMNS)
    if layout == "us2001":
        from latam_airlines.data.us2001 import US2001_COLUMNS

        return list(US2001_COLUMNS)
    return None  # raw SCL: make_dataset needs the whole row


# The airport-code columns of each layout, read as dictionary columns (pandas Categoricals).
_CODE_COLUMNS = {"interim": ["Ori-I", "Des-I"], "us2001": ["origin", "destination"]}


def parquet_row_groups(paths: tuple[str, ...]) -> list[tuple] | None:
    """`(filesystem, file, row group, layout, path)` for every row group of the year's Parquet
    files (a file or a partitioned folder, local or URL), for `_read_row_group`; None when one
    of them needs `dask.dataframe` (CSV, raw SCL rows, a column that is a partition key)."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    from latam_airlines.io.location import filesystem

    groups = []
    for path in paths:
        if not is_parquet(path):
            return None
        layout = _layout(table_columns(path))
        if layout == "raw":
            return None
        fs, root = filesystem(path)
        if fs.isdir(root):
            dataset = ds.dataset(root, format="parquet", filesystem=fs, partitioning="hive")
            # Partition keys: the dataset's columns that no file holds. (pyarrow gives a folder of
            # plain files, no key=value folders, a "partitioning" whose schema is every column.)
            stored = next(dataset.get_fragments()).physical_schema.names if dataset.files else []
            keys = set(dataset.schema.names) - set(stored)
            if any(name in _needed_columns(layout) for name in keys):
                return None
            files = dataset.files
        else:
            files = [root]
        for file in files:
            with fs.open(file, "rb") as handle:
                meta = pq.ParquetFile(handle).metadata
            rows = (meta.row_group(number).num_rows for number in range(meta.num_row_groups))
            groups += [(fs, file, number, layout, path) for number, count in enumerate(rows) if count]
    return groups


def _read_row_group(fs, file: str, number: int, layout: str, path: str) -> pd.DataFrame:
    """One Parquet row group as `_flight_columns` gives it, read with pyarrow as the in-process
    engine reads (airport codes as dictionary columns: no Python string per flight)."""
    import pyarrow.parquet as pq

    with fs.open(file, "rb") as handle:
        table = pq.ParquetFile(handle, read_dictionary=_CODE_COLUMNS[layout]).read_row_group(
            number, columns=_needed_columns(layout)
        )
    return _flight_columns(table.to_pandas(), layout, path)


def _read_and_split(buckets: int, fs, file: str, number: int, layout: str, path: str) -> dict:
    return _split_partition(_read_row_group(fs, file, number, layout, path), buckets)


def read_flights_dask(paths: tuple[str, ...], blocksize: str = "64MB"):
    """The files of a year as one lazy Dask frame of `Fecha-I, Ori-I, Des-I, dif_min, year`."""
    dd, _, _ = _dask(dataframe=True)
    meta = _empty_flights("category").assign(year=pd.Series(dtype="Int32"))
    frames = []
    for path in paths:
        layout = _layout(table_columns(path))
        columns = _needed_columns(layout)
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


def airport_bucket(airport: str, buckets: int) -> int:
    """The scoring batch of an airport: the same on every worker, whatever partition it is in."""
    return zlib.crc32(str(airport).encode()) % buckets


def _split_partition(part: pd.DataFrame, buckets: int) -> dict:
    """One partition of flights -> what is needed to choose the year and the sides (year
    counts, each side's distinct airport values as written) and, per side and airport batch,
    the partition's distinct (airport, day, delay) with their flight counts (`delay_counts`)
    for that batch.

    Only these splits move between workers: each batch's task takes every partition's split
    and keeps its own pieces (a shuffle by airport batch, with no Dask task per piece). Counts
    instead of flights: a third to a fifth of the rows, in ~12 bytes a row instead of ~28. The
    day number carries the year, so flights without a date are left out here."""
    years = part["year"].dropna().value_counts()
    summary = {
        "years": {int(year): int(count) for year, count in years.items()},
        # distinct values first, then text: not a string per flight
        "raw": {side: set(map(str, part[column].dropna().unique())) for side, column in SIDES.items()},
    }
    pieces = {}
    dated = part[part["Fecha-I"].notna().to_numpy()]
    for side in SIDES:
        long = airport_side_rows(dated, [side])
        counts = delay_counts(long) if len(long) else _empty_counts()
        airports = counts["airport"].cat
        per_category = np.array(
            [airport_bucket(name, buckets) for name in airports.categories], dtype=np.int64
        )
        batch = (
            per_category[airports.codes.to_numpy()] if len(per_category) else np.zeros(len(counts), np.int64)
        )
        for number in range(buckets):
            pieces[(side, number)] = counts[batch == number].reset_index(drop=True)  # no index to send
    return {"summary": summary, "pieces": pieces}


def _empty_counts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "airport": pd.Categorical([]),
            "day": pd.Series(dtype="int32"),
            "delay": pd.Series(dtype="int16"),
            "flights": pd.Series(dtype="int32"),
        }
    )


def year_and_sides(
    summaries: list[dict], year: int | None, by: str
) -> tuple[dict[int, int], int | None, list[str]]:
    """From the partitions' summaries: flights per year, the year to report (`year`, or the latest
    when None; None when it has no flights) and the sides whose airports get a series (`by`; auto:
    every side with more than one airport, as `choose_sides` decides)."""
    per_year: dict[int, int] = {}
    for summary in summaries:
        for found_year, count in summary["years"].items():
            per_year[found_year] = per_year.get(found_year, 0) + count
    target = (max(per_year) if per_year else None) if year is None else year
    if by == "auto":
        distinct = {side: set().union(*(summary["raw"][side] for summary in summaries)) for side in SIDES}
        sides = [side for side in SIDES if len(distinct[side]) > 1] or list(SIDES)
    else:
        sides = list(SIDES) if by == "both" else [by]
    return per_year, target if target in per_year else None, sides


def _score_bucket(
    settings: ScoringSettings, year: int | None, by: str, number: int, *splits: dict
) -> tuple[pd.DataFrame, dict[int, int]]:
    """One airport batch's task: its pieces of every partition's split, scored (`_score_batch`),
    and the flights per year. It takes the whole splits and picks the year and sides from their
    summaries itself (`year_and_sides`, the same on every batch): the client submits the reads
    and the batches at once, with no task per piece and no wait for the summaries in between."""
    per_year, target, sides = year_and_sides([split["summary"] for split in splits], year, by)
    if target is None:
        return pd.concat([_empty_daily(), _empty_scores()], axis=1), per_year  # the client says why
    pieces = [split["pieces"][(side, number)] for split in splits for side in sides]
    return _score_batch(settings, target, *pieces), per_year


def _score_batch(settings: ScoringSettings, year: int, *pieces: pd.DataFrame) -> pd.DataFrame:
    """The airport-days of one batch of airports (the delay counts of their flights, from every
    partition), scored: `DAILY_COLUMNS` + `SCORE_COLUMNS` + `status`."""
    from pandas.api.types import union_categoricals

    first, after = day_numbers(np.array([f"{year}-01-01", f"{year + 1}-01-01"], dtype="datetime64[D]"))
    pieces = [
        piece[(piece["day"].to_numpy() >= first) & (piece["day"].to_numpy() < after)] for piece in pieces
    ]
    pieces = [piece for piece in pieces if len(piece)]
    if not pieces:
        return pd.concat([_empty_daily(), _empty_scores()], axis=1)
    counts = pd.DataFrame(
        {
            "airport": union_categoricals([piece["airport"] for piece in pieces], ignore_order=True),
            **{
                column: np.concatenate([piece[column].to_numpy() for piece in pieces])
                for column in ("day", "delay", "flights")
            },
        }
    )
    daily = aggregate_airport_days(counts)[DAILY_COLUMNS]
    scored = score_and_explain(daily, settings, n_jobs=1)
    return pd.concat([daily, scored.reset_index(drop=True)], axis=1)


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
    in-process engine's `daily_airport_table` and `score_and_explain` give them.

    Every partition is read once, on a worker, and split there by airport batch (an airport's
    batch: a hash of its code); one task per batch then aggregates and scores its airports.
    Only the splits (counts), and the airport-days, travel. The reads and the batches are
    submitted together: the client waits once, for the scored batches.
    """
    import dask

    from latam_airlines.anomalies.daily import GROUPINGS

    if by not in GROUPINGS:
        raise InputError(f"expected one of {', '.join(GROUPINGS)}", column="--by", value=by)
    chosen = locate_year(location, year)
    workers = max(1, len(client.scheduler_info(n_workers=-1)["workers"]))
    buckets = workers * BATCHES_PER_WORKER
    groups = parquet_row_groups(chosen.paths)
    if groups is not None:
        # Parquet: each row group read with pyarrow and split by the same task, on a worker.
        splits = [client.submit(_read_and_split, buckets, *group, pure=False) for group in groups]
    else:
        partitions = read_flights_dask(chosen.paths).to_delayed()
        splits = client.compute([dask.delayed(_split_partition)(part, buckets) for part in partitions])
    batches = [
        client.submit(_score_bucket, settings, chosen.year, by, number, *splits, pure=False)
        for number in range(buckets)
    ]
    results = client.gather(batches)
    per_year = results[0][1]  # every batch counts the same flights per year
    if not per_year:
        raise InputError("the table has no rows with a date", file=", ".join(chosen.paths))
    target = max(per_year) if chosen.year is None else chosen.year
    if target not in per_year:
        raise InputError(
            f"no flights scheduled in this year; years present: {', '.join(map(str, sorted(per_year)))}",
            file=", ".join(chosen.paths),
            value=target,
        )
    scored = pd.concat([frame for frame, _ in results], ignore_index=True)
    del splits, batches  # the flights on the workers are released
    if scored.empty:
        raise InputError("no flights with an airport code and a delay", file=", ".join(chosen.paths))
    scored = scored.astype({"airport": object}).sort_values(["airport", "date"], kind="stable")
    scored = scored.reset_index(drop=True)
    scored["flights"] = scored["flights"].astype("int64")
    daily_table = scored[DAILY_COLUMNS].copy()
    scores = scored[SCORE_COLUMNS + ["status"]].copy()
    return daily_table, scores, target, int(per_year[target])


__all__ = ["dask_airport_days", "dask_client", "read_flights_dask"]
