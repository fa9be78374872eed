"""Errors that point at the offending input: file, line and field."""

from __future__ import annotations


class MathIFError(Exception):
    """Base class of every error mathif raises on purpose."""


class InputError(MathIFError, ValueError):
    """Bad input data, located as precisely as we can (file, 1-based line, field)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        where = []
        if file is not None:
            where.append(str(file) if line is None else f"{file}:{line}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class ChecksumMismatchWarning(UserWarning):
    """A dataset file differs from the official release: published numbers do not apply."""
