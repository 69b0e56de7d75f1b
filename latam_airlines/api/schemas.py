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
    schedule: Optional[list[Optional[Literal["booked", "typical day"]]]] = Field(
        None,
        description="Only for a model reading planned-schedule counts: per flight, what they "
        "stood on. booked: the model holds the planned schedule of the flight's day (fed by "
        "`latam schedule`, POST /schedule or the daily DAG); typical day: no schedule fed for "
        "that day, so the counts read the weekday norm; null: the regime that answered reads "
        "no schedule counts (a stale flight of a day whose schedule is not fed is answered by the "
        "stale regime, without them).",
    )


class PlannedFlight(BaseModel):
    """One flight planned to leave SCL (the raw challenge columns)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    fecha_i: str = Field(
        alias="Fecha-I", description="Scheduled date-time, Santiago local time or with a UTC offset"
    )
    opera: str = Field(alias="OPERA", description="Operating airline")
    tipovuelo: Literal["I", "N"] = Field(alias="TIPOVUELO")
    des_i: str = Field(alias="Des-I", description="Destination ICAO code")
    vlo_i: Optional[str] = Field(
        None, alias="Vlo-I", description="Flight number (with Emp-I, the flight's key)"
    )
    emp_i: Optional[str] = Field(None, alias="Emp-I", description="Scheduled airline code")
    ori_i: Optional[Literal["SCEL"]] = Field(None, alias="Ori-I", description="Origin: SCL only")


class ScheduleRequest(BaseModel):
    """Planned flights to record in the served model's schedule, at most `serve.max_batch`."""

    model_config = ConfigDict(extra="forbid")

    flights: list[PlannedFlight] = Field(min_length=1)


class ScheduleResponse(BaseModel):
    """What the feed changed and the served model's schedule afterwards."""

    recorded: int
    new: int
    replaced: int
    unchanged: int
    schedule: dict[str, Any]
    kept_in: str


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
        "(`stale_from`), the decision threshold per regime (fed, stale, stale_schedule, minimal, minimal_stale; the minimal "
        "regimes' at the current level), `threshold_rules` (how the minimal regimes' thresholds follow SCL's "
        "28-day delay rate, in words and numbers) and the "
        "calibration of the probabilities.",
    )
    schedule: dict[str, Any] = Field(
        default_factory=dict,
        description="Planned schedule: whether the model reads planned-schedule counts, whether "
        "a schedule is fed, how many flights and which days (`from`, `until`).",
    )
    metrics: dict[str, Any]
    features: list[str]
    known_values: dict[str, list[Any]]
    max_batch: int
    library_versions: dict[str, Any]
