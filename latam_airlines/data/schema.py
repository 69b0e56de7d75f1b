"""The raw SCL schema and the calendar vocabulary shared by every source."""

from __future__ import annotations

RAW_COLUMNS: list[str] = [
    "Fecha-I", "Vlo-I", "Ori-I", "Des-I", "Emp-I",
    "Fecha-O", "Vlo-O", "Ori-O", "Des-O", "Emp-O",
    "DIA", "MES", "AÑO", "DIANOM", "TIPOVUELO", "OPERA", "SIGLAORI", "SIGLADES",
]  # fmt: skip

# Without these a row cannot be turned into a flight with a delay.
REQUIRED_COLUMNS: list[str] = [
    "Fecha-I", "Ori-I", "Des-I", "Emp-I", "Fecha-O", "Ori-O", "Des-O", "Emp-O",
    "TIPOVUELO", "OPERA",
]  # fmt: skip

CATEGORY_COLUMNS: list[str] = [
    "Ori-I", "Des-I", "Emp-I", "Ori-O", "Des-O", "Emp-O",
    "DIANOM", "TIPOVUELO", "OPERA", "SIGLAORI", "SIGLADES",
]  # fmt: skip

TIPOVUELO_VALUES: tuple[str, ...] = ("I", "N")

# Spanish names as the challenge file spells them (Monday first, as pandas' dayofweek).
DAY_NAMES: list[str] = ["Lunes", "Martes", "Miercoles", "Jueves", "Viernes", "Sabado", "Domingo"]
MONTH_ABBREVIATIONS: list[str] = [
    "Ene", "Feb", "Mar", "Abr", "May", "Jun", "Jul", "Ago", "Sep", "Oct", "Nov", "Dic",
]  # fmt: skip

PERIODS: list[str] = ["mañana", "tarde", "noche"]
