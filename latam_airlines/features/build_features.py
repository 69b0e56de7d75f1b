"""Interim table -> processed feature table, with the challenge's own column names."""

from __future__ import annotations

import pandas as pd

from latam_airlines.data.schema import DAY_NAMES, MONTH_ABBREVIATIONS
from latam_airlines.io import require_interim_columns

# The seed's processed table (latam_airlines/datasets/scl/features_2017.csv.gz), in its column order.
SEED_FEATURE_COLUMNS: list[str] = [
    "DIA", "MES", "HORA", "MIN", "Vlo_change", "Emp_change", "temporada_alta", "periodo_dia",
    "DIANOM", "MESNOM", "Des_I", "TIPOVUELO", "OPERA", "atraso_15",
]  # fmt: skip
# What this project adds: the year and origin/airline codes (for time-aware features).
EXTRA_FEATURE_COLUMNS: list[str] = ["AÑO", "Ori_I", "Emp_I"]
TARGET = "atraso_15"

_INTERIM_NEEDS = ["Fecha-I", "Vlo-I", "Vlo-O", "Emp-I", "Emp-O", "Ori-I", "Des-I", "TIPOVUELO",
                  "OPERA", "temporada_alta", "periodo_dia", "atraso_15"]  # fmt: skip


def _changed(scheduled: pd.Series, operated: pd.Series) -> pd.Series:
    # Unknown values (flight numbers absent from the file) count as "no change".
    differs = scheduled.astype("string") != operated.astype("string")
    return differs.fillna(False).astype("int8")


def build_features(interim: pd.DataFrame) -> pd.DataFrame:
    """The processed table: every column of the seed's features_2017.csv (same names and
    meanings; calendar fields from the scheduled time), plus `EXTRA_FEATURE_COLUMNS`. Pure."""
    require_interim_columns(interim, _INTERIM_NEEDS)
    scheduled = interim["Fecha-I"]
    processed = pd.DataFrame(
        {
            "DIA": scheduled.dt.day.astype("int16"),
            "MES": scheduled.dt.month.astype("int16"),
            "HORA": scheduled.dt.hour.astype("int16"),
            "MIN": scheduled.dt.minute.astype("int16"),
            "Vlo_change": _changed(interim["Vlo-I"], interim["Vlo-O"]),
            "Emp_change": _changed(interim["Emp-I"], interim["Emp-O"]),
            "temporada_alta": interim["temporada_alta"].astype("int8"),
            "periodo_dia": interim["periodo_dia"].astype("category"),
            "DIANOM": pd.Categorical.from_codes(scheduled.dt.day_of_week.to_numpy(), DAY_NAMES),
            "MESNOM": pd.Categorical.from_codes(scheduled.dt.month.to_numpy() - 1, MONTH_ABBREVIATIONS),
            "Des_I": interim["Des-I"].astype("category"),
            "TIPOVUELO": interim["TIPOVUELO"].astype("category"),
            "OPERA": interim["OPERA"].astype("category"),
            TARGET: interim["atraso_15"].astype("int8"),
            "AÑO": scheduled.dt.year.astype("int16"),
            "Ori_I": interim["Ori-I"].astype("category"),
            "Emp_I": interim["Emp-I"].astype("category"),
        },
        index=interim.index,
    )
    processed.attrs["source"] = interim.attrs.get("source")
    return processed[SEED_FEATURE_COLUMNS + EXTRA_FEATURE_COLUMNS]
