"""A progress bar on standard error for long runs, only when standard error is a terminal.

CI logs and redirected output get nothing extra.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


def _total_rows(path: Path) -> int | None:
    """Rows in a Parquet file (from its footer); unknown for CSV without reading it."""
    if not isinstance(path, (str, Path)) or Path(path).suffix.lower() not in (".parquet", ".pq"):
        return None
    try:
        import pyarrow.parquet as pq
        return pq.ParquetFile(path).metadata.num_rows
    except Exception:  # noqa: BLE001 - the reader reports unreadable files properly
        return None


@contextmanager
def progress_reporter(path: Path, enabled: bool | None = None) -> Iterator[Callable[[int], None] | None]:
    """Yield a callback taking rows read per chunk (for ``run_audit``), or None when not on a terminal."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield None
        return
    console = Console(stderr=True)
    columns = [SpinnerColumn(), TextColumn("[bold]auditing[/] {task.description}"), BarColumn(),
               TextColumn("{task.completed:,} episodes read"), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        name = path.name if hasattr(path, "table") else Path(path).name  # a database's table, or "query"
        task = progress.add_task(name, total=_total_rows(path))
        yield lambda rows: progress.advance(task, rows)
