"""Spark's errors as the single process's: a ``UserError`` raised in a worker, or a file or table Spark cannot
read, is one line on the driver (exit 2); anything else stays an internal error."""

from __future__ import annotations

import contextlib
import re

from audit.errors import UserError
from audit.spark.partition import USER_ERROR


@contextlib.contextmanager
def translated_errors(name: str):
    """Run Spark jobs, saying a worker's ``UserError`` (and Spark's analysis errors: a missing path, table or
    column) as one line."""
    try:
        yield
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyspark's errors have no common base across versions
        text = str(exc)
        said = re.search(re.escape(USER_ERROR) + r"(.*)", text)
        if said:
            raise UserError(said.group(1).strip()) from None
        if type(exc).__name__ in ("AnalysisException", "IllegalArgumentException"):
            first = next((line for line in text.splitlines() if line.strip()), type(exc).__name__)
            raise UserError(f"{name}: {first.strip()}") from None
        raise
