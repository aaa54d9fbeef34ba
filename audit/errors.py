"""Errors shown to users (one line, no traceback, exit code 2) versus internal ones.

Anything raised as a ``UserError`` is a problem with the user's input (an
extract, a rule file, an option) and is printed as a single message by the
CLI. Any other exception is a bug in the engine and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input, shown as one line with exit code 2."""

    exit_code = 2


class RuleFileError(UserError):
    """A rule file that cannot be loaded: names the file and line."""

    def __init__(self, path: object, line: int | None, problem: str):
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {problem}")


class InputFileError(UserError):
    """An extract that cannot be used: names the file, and the line and column where known."""

    def __init__(self, path: object, problem: str, line: int | None = None, column: str | None = None):
        self.path = str(path)
        self.line = line
        self.column = column
        where = self.path
        if line is not None:
            where += f":{line}"
        if column is not None:
            where += f" (column {column})"
        super().__init__(f"{where}: {problem}")
