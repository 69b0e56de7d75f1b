"""Request validation for /predict: plain-Python checks, fast enough for the hot path.

Every problem is reported as {index, field, value, message} so a client can fix its request;
the app answers them with 400. The schema rules (types, MES 1-12, TIPOVUELO I/N) live here;
unknown categories are judged against the model artifact's own `known_values`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from latam_airlines.data.schema import DAY_NAMES, MONTH_ABBREVIATIONS, PERIODS, TIPOVUELO_VALUES
from latam_airlines.models import REQUIRED_FIELDS

# Report at most this many problems: enough to fix a request, bounded for huge bad batches.
MAX_REPORTED_ERRORS = 20


@dataclass(frozen=True)
class FieldRule:
    """What one flight field accepts: a JSON type, then an optional range or vocabulary."""

    kind: type  # str or int
    description: str
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] | None = None
    check: Callable[[str], bool] | None = None  # extra format check for strings


def _is_datetime(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


# The flight record /predict accepts: the three required fields of the challenge plus the
# richer raw/processed fields a model may use (absent ones are filled with the model's defaults).
FIELD_RULES: dict[str, FieldRule] = {
    "OPERA": FieldRule(str, "operating airline, as in the training data"),
    "TIPOVUELO": FieldRule(str, "I (international) or N (national)", choices=TIPOVUELO_VALUES),
    "MES": FieldRule(int, "scheduled month, 1-12", low=1, high=12),
    "Fecha-I": FieldRule(str, "scheduled date-time, e.g. 2017-01-01 23:30:00", check=_is_datetime),
    "Des-I": FieldRule(str, "destination ICAO code"),
    "Des_I": FieldRule(str, "destination ICAO code (processed-table name)"),
    "Ori-I": FieldRule(str, "origin ICAO code"),
    "Emp-I": FieldRule(str, "scheduled airline code"),
    "DIANOM": FieldRule(str, "day name, Lunes-Domingo", choices=tuple(DAY_NAMES)),
    "MESNOM": FieldRule(str, "month abbreviation, Ene-Dic", choices=tuple(MONTH_ABBREVIATIONS)),
    "periodo_dia": FieldRule(str, "mañana, tarde or noche", choices=tuple(PERIODS)),
    "DIA": FieldRule(int, "scheduled day of month, 1-31", low=1, high=31),
    "HORA": FieldRule(int, "scheduled hour, 0-23", low=0, high=23),
    "MIN": FieldRule(int, "scheduled minute, 0-59", low=0, high=59),
    "AÑO": FieldRule(int, "scheduled year", low=1900, high=2100),
    "temporada_alta": FieldRule(int, "1 in high season, else 0", low=0, high=1),
    "Vlo_change": FieldRule(int, "1 if the operated flight number changed, else 0", low=0, high=1),
    "Emp_change": FieldRule(int, "1 if the operating airline code changed, else 0", low=0, high=1),
}


# Raw-file spellings of processed-table fields: records are passed on with the processed name,
# so a batch mixing both spellings still reaches the model as one column.
ALIASES: dict[str, str] = {"Des-I": "Des_I"}


class RequestInvalid(Exception):
    """The request cannot be predicted; `problems` says where and why (answered with 400)."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def problem(index: int | None, field: str | None, value: Any, message: str) -> dict[str, Any]:
    """One entry of a 400 body: which flight (index), which field, the bad value, and why."""
    return {"index": index, "field": field, "value": value, "message": message}


class FlightValidator:
    """Validates /predict bodies against FIELD_RULES and one artifact's known values."""

    def __init__(self, known_values: Mapping[str, Sequence[Any]], max_batch: int) -> None:
        self.max_batch = max_batch
        # Request field name -> the artifact's known values (as strings, as the model encodes
        # them); the processed table spells Des-I as Des_I, so both names map to it.
        self.known: dict[str, frozenset[str]] = {}
        for field in FIELD_RULES:
            model_field = field.replace("-", "_")
            if model_field in known_values:
                self.known[field] = frozenset(str(value) for value in known_values[model_field])

    def flights(self, payload: Any) -> list[dict[str, Any]]:
        """The list of flight records in `payload`, or RequestInvalid naming every problem."""
        if not isinstance(payload, dict) or "flights" not in payload:
            raise RequestInvalid([problem(None, "flights", None, 'the body must be {"flights": [...]}')])
        extra = [key for key in payload if key != "flights"]
        if extra:
            raise RequestInvalid([problem(None, extra[0], payload[extra[0]], "unknown top-level field")])
        flights = payload["flights"]
        if not isinstance(flights, list):
            raise RequestInvalid([problem(None, "flights", flights, "flights must be a list of objects")])
        if not flights:
            raise RequestInvalid([problem(None, "flights", [], "flights must hold at least one flight")])
        if len(flights) > self.max_batch:
            raise RequestInvalid(
                [problem(None, "flights", len(flights), f"at most {self.max_batch} flights per request")]
            )
        problems: list[dict[str, Any]] = []
        for index, flight in enumerate(flights):
            self._check_flight(index, flight, problems)
            if len(problems) >= MAX_REPORTED_ERRORS:
                break
        if problems:
            raise RequestInvalid(problems[:MAX_REPORTED_ERRORS])
        return flights

    def _check_flight(self, index: int, flight: Any, problems: list[dict[str, Any]]) -> None:
        if not isinstance(flight, dict):
            problems.append(problem(index, None, flight, "each flight must be a JSON object"))
            return
        for field in REQUIRED_FIELDS:
            if field not in flight:
                problems.append(problem(index, field, None, f"missing required field {field}"))
        aliased = [field for field in ALIASES if field in flight]
        for field, value in flight.items():
            rule = FIELD_RULES.get(field)
            if rule is None:
                message = f"unknown field; accepted: {', '.join(FIELD_RULES)}"
                problems.append(problem(index, field, value, message))
                continue
            message = self._check_value(field, rule, value)
            if message:
                problems.append(problem(index, field, value, message))
        for field in aliased:
            canonical = ALIASES[field]
            if canonical in flight:
                problems.append(
                    problem(index, field, flight[field], f"give either {field} or {canonical}, not both")
                )
            else:
                flight[canonical] = flight.pop(field)

    def _check_value(self, field: str, rule: FieldRule, value: Any) -> str | None:
        """Why `value` is not acceptable for `field`, or None when it is."""
        # bool is an int subclass in Python, but `true` is not a month.
        if type(value) is not rule.kind:
            return f"{field} must be {'a string' if rule.kind is str else 'an integer'}"
        if rule.low is not None and not rule.low <= value <= rule.high:
            return f"{field} must be from {rule.low} to {rule.high}"
        if rule.choices is not None and value not in rule.choices:
            return f"{field} must be one of {', '.join(rule.choices)}"
        if rule.check is not None and not rule.check(value):
            return f"{field} must be {rule.description}"
        known = self.known.get(field)
        if known is not None and str(value) not in known:
            return f"unknown {field}: the model was not trained on it (known values: GET /model)"
        return None
