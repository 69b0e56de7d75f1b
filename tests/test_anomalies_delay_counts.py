"""Airport-days from delay counts (what the Dask engine's workers send instead of flights): the
same figures, to the last bit, as from the flights themselves, however the counts are split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from latam_airlines.anomalies import ScoringSettings
from latam_airlines.anomalies.daily import aggregate_airport_days, daily_airport_table, delay_counts
from latam_airlines.anomalies.scoring import score_and_explain


def flights_of(days: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    """`airport_side_rows` of hand-made days: {(airport, date): delays}."""
    rows = [(airport, date, delay) for (airport, date), delays in days.items() for delay in delays]
    airport, date, delay = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "airport": pd.Categorical(airport),
            "date": pd.to_datetime(list(date)),
            "delay": np.array(delay, float),
        }
    )


def by_pandas(long: pd.DataFrame) -> pd.DataFrame:
    """The figures the plain way: a groupby with pandas' own quantile."""
    groups = long.assign(late=long["delay"] > 15).groupby(["airport", "date"], observed=True)
    return pd.DataFrame(
        {
            "flights": groups.size(),
            "mean_delay": groups["delay"].mean(),
            "delayed_share": groups["late"].mean(),
            "p90_delay": groups["delay"].quantile(0.9),
        }
    ).reset_index()


def counted(*parts: pd.DataFrame) -> pd.DataFrame:
    """The delay counts of each part (a partition), put together as a batch's task does."""
    from pandas.api.types import union_categoricals

    pieces = [delay_counts(part) for part in parts]
    return pd.DataFrame(
        {
            "airport": union_categoricals([piece["airport"] for piece in pieces], ignore_order=True),
            **{
                column: np.concatenate([piece[column].to_numpy() for piece in pieces])
                for column in ("day", "delay", "flights")
            },
        }
    )


REPEATED = {
    ("SCL", "2017-01-01"): [0, 5, 5, 5, 20, 20, 30, 100, 100, 100, 100],  # p90 between two 100s
    ("SCL", "2017-01-02"): [-3, -3, -3, -3, -3, -3, -3, -3, 16, 60],  # p90 between 16 and 60
    ("LIM", "2017-01-01"): [7],
    ("LIM", "2017-01-02"): [1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 90, 95],
}


def test_counts_give_each_days_figures_on_repeated_delays():
    long = flights_of(REPEATED)
    counts = delay_counts(long)
    assert len(counts) < len(long) and counts["flights"].sum() == len(long)
    assert counts.dtypes.astype(str).tolist() == ["category", "int32", "int16", "int32"]
    expected = by_pandas(long)
    from_flights = aggregate_airport_days(long)
    pd.testing.assert_frame_equal(aggregate_airport_days(counts), from_flights, check_exact=True)
    assert from_flights["flights"].tolist() == expected["flights"].tolist()
    for column in ("mean_delay", "delayed_share", "p90_delay"):
        np.testing.assert_allclose(from_flights[column], expected[column], rtol=1e-12)
    # 0.9 * 20 = rank 18 of LIM's 21 flights: the 19th delay (2), not the 19th distinct one
    assert from_flights["p90_delay"].tolist() == pytest.approx([7.0, 2.0, 100.0, 20.4])


def test_a_day_split_across_partitions_counts_once():
    long = flights_of(REPEATED).sample(frac=1, random_state=3).reset_index(drop=True)
    parts = [long.iloc[:9], long.iloc[9:30], long.iloc[30:]]  # each day in two or three parts
    parts[0] = parts[0].assign(airport=parts[0]["airport"].cat.reorder_categories(["SCL", "LIM"]))
    pd.testing.assert_frame_equal(
        aggregate_airport_days(counted(*parts)), aggregate_airport_days(long), check_exact=True
    )


def test_fractional_delays_sum_as_the_flights_do():
    """A day with fractional delays is summed flight by flight, as in process, even where some
    of its counts come merged: 0.1 * 6 is not 0.1 + ... + 0.1 in floats, and LIM's delays do not
    sum to 21.26 with its 3s merged into one 9."""
    lim = [0, 0, 1, 2, 2.45, 2.81, 3, 3, 3, 4]
    days = {("SCL", "2017-03-01"): [0.1] * 6 + [16.5], ("LIM", "2017-03-01"): lim}
    day_sum = lambda delays: np.add.reduceat(np.array(delays, dtype=float), [0])[0]  # noqa: E731
    assert day_sum([0.1] * 6) != 0.1 * 6 and day_sum(lim) != day_sum([0, 1, 2, 2.45, 2.81, 9, 4])
    long = flights_of(days)
    whole_part, fractional_part = long[long["delay"] % 1 == 0], long[long["delay"] % 1 != 0]
    assert delay_counts(whole_part)["flights"].max() == 3  # merged: whole minutes
    from_flights = aggregate_airport_days(long)
    for rows in (
        delay_counts(long),
        counted(whole_part, fractional_part),
        counted(fractional_part, whole_part),
    ):
        pd.testing.assert_frame_equal(aggregate_airport_days(rows), from_flights, check_exact=True)


def test_the_dask_tasks_give_the_in_process_figures_and_scores():
    """`_split_partition` on each partition, then `_score_batch` per airport batch (through
    `_score_bucket`: the tasks of `--engine dask`, here without a cluster): the in-process table
    and scores, other years' and undated flights left out."""
    from latam_airlines.anomalies.distributed import (
        _flight_columns,
        _score_batch,
        _score_bucket,
        _split_partition,
    )
    from latam_airlines.datasets.us2001 import US2001_SAMPLE

    records = pd.read_parquet(US2001_SAMPLE)
    flights = _flight_columns(
        records.astype({"origin": "category", "destination": "category"}), "us2001", "x"
    )
    settings = ScoringSettings(num_trees=10, seed=5)
    expected = daily_airport_table(flights, "auto")
    expected_scores = score_and_explain(expected, settings)
    other_year = flights.head(50).assign(**{"Fecha-I": flights["Fecha-I"].head(50) - pd.Timedelta(days=366)})
    undated = flights.head(5).assign(**{"Fecha-I": pd.NaT})
    mixed = pd.concat([flights, other_year, undated], ignore_index=True).sample(frac=1, random_state=1)
    mixed = mixed.assign(year=mixed["Fecha-I"].dt.year.astype("Int32"))
    splits = [
        _split_partition(mixed.iloc[start : start + 2000], buckets=3) for start in range(0, len(mixed), 2000)
    ]
    assert sum(split["summary"]["years"].get(2000, 0) for split in splits) == 50
    batches = [
        _score_batch(
            settings,
            2001,
            *[split["pieces"][(side, number)] for split in splits for side in ("origin", "destination")],
        )
        for number in range(3)  # the sample: 3 origins, 100+ destinations; auto counts both sides
    ]
    scored = pd.concat(batches, ignore_index=True).sort_values(["airport", "date"], kind="stable")
    scored = scored.reset_index(drop=True)
    pd.testing.assert_frame_equal(
        scored[expected.columns].astype({"airport": object}), expected, check_exact=True, check_dtype=False
    )
    pd.testing.assert_frame_equal(
        scored[expected_scores.columns], expected_scores.reset_index(drop=True), check_exact=True
    )
    # The batch task the engine submits takes the whole splits and picks the year and the sides
    # from their summaries itself: the same batches, and the flights per year for the client.
    for number in range(3):
        bucket, per_year = _score_bucket(settings, None, "auto", number, *splits)
        pd.testing.assert_frame_equal(bucket, batches[number], check_exact=True)
        assert per_year == {2001: len(flights), 2000: 50}
    origins, _ = _score_bucket(settings, 2001, "origin", 0, *splits)
    assert set(origins["airport"]) <= {"BTV", "FAI", "FAT"}
    missing, per_year = _score_bucket(settings, 1999, "auto", 0, *splits)  # the client says why
    assert missing.empty and list(missing.columns) == list(batches[0].columns) and 1999 not in per_year


@pytest.mark.parametrize("layout", ["flat", "hive"])
def test_a_parquet_folder_is_read_by_row_groups_unless_a_needed_column_is_a_folder_key(layout, tmp_path):
    from latam_airlines.anomalies.distributed import parquet_row_groups
    from latam_airlines.datasets.us2001 import US2001_SAMPLE

    records = pd.read_parquet(US2001_SAMPLE)
    folder = tmp_path / "flights_2001.parquet"
    for origin, part in records.groupby("origin", observed=True):
        if layout == "flat":  # plain files: every column in every file
            folder.mkdir(exist_ok=True)
            part.to_parquet(folder / f"origin={origin}.parquet", index=False)
        else:  # key=value folders: `origin` only in the folder names
            (folder / f"origin={origin}").mkdir(parents=True)
            part.drop(columns="origin").to_parquet(folder / f"origin={origin}" / "part.parquet", index=False)
    groups = parquet_row_groups((str(folder),))
    assert (len(groups) == 3) if layout == "flat" else groups is None
