import io

from rich.console import Console

from audit import progress
from audit.pipeline import run_audit
from audit.rules import load_rules
from tests.samples import write_extract


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path):
    with progress.progress_reporter(tmp_path / "x.csv", enabled=False) as callback:
        assert callback is None


def test_pipeline_reports_rows_per_chunk(tmp_path):
    seen = []
    result = run_audit(write_extract(tmp_path / "e.csv"), load_rules(), chunk_rows=4, progress=seen.append)
    assert sum(seen) == result.episodes_read and len(seen) >= 1


def test_progress_bar_on_a_terminal(tmp_path, monkeypatch):
    buffer = io.StringIO()
    monkeypatch.setattr(progress, "Console", lambda stderr: Console(file=buffer, force_terminal=True, width=100))
    path = write_extract(tmp_path / "e.csv")
    with progress.progress_reporter(path, enabled=True) as callback:
        run_audit(path, load_rules(), progress=callback)
    assert "auditing" in buffer.getvalue()
