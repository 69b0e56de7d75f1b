"""The one error type for user mistakes: the CLI turns it into one line and exit code 2."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from the user: a file, column or value that cannot be used.

    The message names the file, the column and the offending value where they are known,
    so the CLI can print it as-is on one line.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        value: object = None,
    ) -> None:
        parts = [str(file)] if file else []
        if column is not None:
            parts.append(f"column {column!r}")
        if value is not None:
            parts.append(f"value {value!r}")
        prefix = ", ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.file = file
        self.column = column
        self.value = value
