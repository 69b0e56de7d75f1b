"""Request validation for /predict: plain-Python checks, fast enough for the hot path.

Every problem is reported as {index, field, value, message} so a client can fix its request;
the app answers them with 400. The rules of a flight (types, ranges, dates and time zone,
cross-field consistency, text lengths) are the ones every entry point shares
(`latam_airlines/validation.py`); unknown categories are judged against the model artifact's own
`known_values`, case-insensitively, and passed on in the model's spelling. A null optional field
counts as absent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from latam_airlines.models import REQUIRED_FIELDS
from latam_airlines.validation import (
    FIELD_RULES,
    FieldRule,
    canonical_choice,
    date_problem,
    record_problems,
    scheduled_time,
    shown,
)

__all__ = ["FIELD_RULES", "FieldRule", "FlightValidator", "RequestInvalid", "problem"]

# Report at most this many problems: enough to fix a request, bounded for huge bad batches.
MAX_REPORTED_ERRORS = 20

# Raw-file spellings of processed-table fields: records are passed on with the processed name,
# so a batch mixing both spellings still reaches the model as one column.
ALIASES: dict[str, str] = {"Des-I": "Des_I"}
_MODEL_NAMES = {"Des-I": "Des_I", "Ori-I": "Ori_I", "Emp-I": "Emp_I"}


class RequestInvalid(Exception):
    """The request cannot be predicted; `problems` says where and why (answered with 400)."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def problem(index: int | None, field: str | None, value: Any, message: str) -> dict[str, Any]:
    """One entry of a 400 body: which flight (index), which field, the bad value, and why."""
    return {"index": index, "field": shown(field), "value": shown(value), "message": message}


class FlightValidator:
    """Validates /predict bodies against FIELD_RULES and one artifact's known values.

    `model_fields`: the canonical fields the model reads; a flight is passed on holding only
    those (and `Fecha-I`, from which they derive), so fields the model ignores never reach the
    prediction cache's keys."""

    def __init__(
        self,
        known_values: Mapping[str, Sequence[Any]],
        max_batch: int,
        model_fields: Sequence[str] | None = None,
    ) -> None:
        self.max_batch = max_batch
        # Request field name -> {casefolded value: the artifact's spelling}; the processed
        # table spells Des-I as Des_I, so both names map to it.
        self.known: dict[str, dict[str, Any]] = {}
        for field in FIELD_RULES:
            model_field = field.replace("-", "_")
            if model_field in known_values:
                values = known_values[model_field]
                if FIELD_RULES[field].kind is int:
                    self.known[field] = {
                        value: value for value in (_as_int(v) for v in values) if value is not None
                    }
                else:
                    self.known[field] = {str(v).strip().casefold(): str(v) for v in values}
        self.passed_on: frozenset[str] | None = None
        if model_fields is not None:
            wanted = set(model_fields) | set(REQUIRED_FIELDS)
            self.passed_on = frozenset(
                field
                for field in FIELD_RULES
                if field == "Fecha-I" or _MODEL_NAMES.get(field, field) in wanted
            )

    def flights(self, payload: Any) -> list[dict[str, Any]]:
        """The flight records in `payload` (validated, canonical spellings, only the fields the
        model reads), or RequestInvalid naming every problem."""
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
        records = []
        for index, flight in enumerate(flights):
            records.append(self._check_flight(index, flight, problems))
            if len(problems) >= MAX_REPORTED_ERRORS:
                break
        if problems:
            raise RequestInvalid(problems[:MAX_REPORTED_ERRORS])
        return records

    def _check_flight(self, index: int, flight: Any, problems: list[dict[str, Any]]) -> dict[str, Any]:
        if not isinstance(flight, dict):
            problems.append(problem(index, None, flight, "each flight must be a JSON object"))
            return {}
        found = len(problems)
        for field in REQUIRED_FIELDS:
            if flight.get(field) is None:
                problems.append(problem(index, field, None, f"missing required field {field}"))
        record: dict[str, Any] = {}
        scheduled = None
        for field, value in flight.items():
            rule = FIELD_RULES.get(field)
            if rule is None:
                message = f"unknown field; accepted: {', '.join(FIELD_RULES)}"
                problems.append(problem(index, field, value, message))
                continue
            if value is None:
                continue  # an optional field given as null is absent (required ones: above)
            message, value = self._check_value(field, rule, value)
            if message:
                problems.append(problem(index, field, value, message))
                continue
            if field == "Fecha-I":
                value, scheduled = value
            canonical = ALIASES.get(field, field)
            if canonical != field and canonical in flight and flight[canonical] is not None:
                problems.append(problem(index, field, value, f"give either {field} or {canonical}, not both"))
                continue
            record[canonical] = value
        if len(problems) > found:
            return record
        for field, message in record_problems(record, scheduled):
            problems.append(problem(index, field, record.get(field), message))
        if self.passed_on is not None and not self.passed_on.issuperset(record):
            record = {field: value for field, value in record.items() if field in self.passed_on}
        return record

    def _check_value(self, field: str, rule: FieldRule, value: Any) -> tuple[str | None, Any]:
        """(why `value` is not acceptable for `field` or None, the value in canonical form)."""
        # bool is an int subclass in Python, but `true` is not a month.
        if type(value) is not rule.kind:
            return f"{field} must be {'a string' if rule.kind is str else 'an integer'}", value
        if rule.kind is int:
            if not rule.low <= value <= rule.high:
                return f"{field} must be from {rule.low} to {rule.high}", value
        else:
            if rule.max_length is not None and len(value) > rule.max_length:
                return f"{field} must hold at most {rule.max_length} characters", value
            if field == "Fecha-I":
                parsed = scheduled_time(value) if len(value) <= 40 else None
                return (date_problem(field, value), value) if parsed is None else (None, parsed)
            if rule.choices is not None:
                choice = canonical_choice(field, value)
                if choice is None:
                    return f"{field} must be one of {', '.join(rule.choices)}", value
                value = choice
        known = self.known.get(field)
        if known is not None:
            spelled = known.get(value if rule.kind is int else value.strip().casefold())
            if spelled is None:
                return f"unknown {field}: the model was not trained on it (known values: GET /model)", value
            value = spelled
        return None, value


def _as_int(value: Any) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None
