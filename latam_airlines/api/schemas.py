"""Request/response schemas of the API, as pydantic models for the OpenAPI docs at /docs.

The /predict hot path does not build these models (measured: plain checks in `validation.py`
are much cheaper); they describe the same contract, and a test keeps the two in step.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from latam_airlines.api.validation import FIELD_RULES


class Flight(BaseModel):
    """One flight departing SCL; only OPERA, TIPOVUELO and MES are required. An optional field
    given as null counts as absent. Text fields hold at most 64 characters; times are Santiago
    local time unless they carry a UTC offset; fields must agree with each other (MES with
    Fecha-I, DIA with MES, ...)."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={"examples": [{"OPERA": "Aerolineas Argentinas", "TIPOVUELO": "N", "MES": 3}]},
    )

    OPERA: str = Field(max_length=64, description=FIELD_RULES["OPERA"].description)
    TIPOVUELO: Literal["I", "N"] = Field(description=FIELD_RULES["TIPOVUELO"].description)
    MES: int = Field(ge=1, le=12, description=FIELD_RULES["MES"].description)
    Fecha_I: Optional[str] = Field(None, alias="Fecha-I", description=FIELD_RULES["Fecha-I"].description)
    Des_I_raw: Optional[str] = Field(
        None, max_length=64, alias="Des-I", description=FIELD_RULES["Des-I"].description
    )
    Des_I: Optional[str] = Field(None, max_length=64, description=FIELD_RULES["Des_I"].description)
    Ori_I: Optional[str] = Field(
        None, max_length=64, alias="Ori-I", description=FIELD_RULES["Ori-I"].description
    )
    Emp_I: Optional[str] = Field(
        None, max_length=64, alias="Emp-I", description=FIELD_RULES["Emp-I"].description
    )
    DIANOM: Optional[str] = Field(None, description=FIELD_RULES["DIANOM"].description)
    MESNOM: Optional[str] = Field(None, description=FIELD_RULES["MESNOM"].description)
    periodo_dia: Optional[str] = Field(None, description=FIELD_RULES["periodo_dia"].description)
    DIA: Optional[int] = Field(None, ge=1, le=31, description=FIELD_RULES["DIA"].description)
    HORA: Optional[int] = Field(None, ge=0, le=23, description=FIELD_RULES["HORA"].description)
    MIN: Optional[int] = Field(None, ge=0, le=59, description=FIELD_RULES["MIN"].description)
    ANO: Optional[int] = Field(
        None,
        alias="AÑO",
        ge=FIELD_RULES["AÑO"].low,
        le=FIELD_RULES["AÑO"].high,
        description=FIELD_RULES["AÑO"].description,
    )
    temporada_alta: Optional[int] = Field(
        None, ge=0, le=1, description=FIELD_RULES["temporada_alta"].description
    )
    Vlo_change: Optional[int] = Field(None, ge=0, le=1, description=FIELD_RULES["Vlo_change"].description)
    Emp_change: Optional[int] = Field(None, ge=0, le=1, description=FIELD_RULES["Emp_change"].description)


class PredictRequest(BaseModel):
    """Flights to score, at most `serve.max_batch` (params.yaml) per request."""

    model_config = ConfigDict(extra="forbid")

    flights: list[Flight] = Field(min_length=1)


class PredictResponse(BaseModel):
    """One label (1 = delayed > 15 min, at the model's threshold) and probability per flight."""

    predict: list[int]
    probability: list[float]


class Problem(BaseModel):
    """Where a request is wrong: flight index (null for the whole body), field, bad value."""

    index: Optional[int]
    field: Optional[str]
    value: Any = None
    message: str


class ErrorResponse(BaseModel):
    """The 400 body: every problem found (up to 20)."""

    detail: list[Problem]


class Health(BaseModel):
    status: Literal["ok"]


class ModelInfo(BaseModel):
    """What is being served: identity, quality and the values it knows."""

    version: Optional[str]
    model: Optional[str]
    data_fingerprint: Optional[str]
    rows: Optional[int]
    outcomes_until: Optional[str] = Field(
        None,
        description="Last day of departures fed to the model (`latam outcomes`): recent delay rates are as of it.",
    )
    threshold: float
    feed: dict[str, Any] = Field(
        default_factory=dict,
        description="Feed state: last fed day, `stale_after_days` (beyond it the stale regime "
        "answers, a model without recent delay rates), the day the stale regime starts "
        "(`stale_from`), the decision threshold per regime (fed, stale, minimal) and the "
        "calibration of the probabilities.",
    )
    metrics: dict[str, Any]
    features: list[str]
    known_values: dict[str, list[Any]]
    max_batch: int
    library_versions: dict[str, Any]
