"""The start-up measurement (benchmarks/startup.py) and what the command line imports before a command runs.

No timing is asserted: what is checked is that the commands ran and were tabled, and that importing the
command line does not import the libraries only a run needs (the cause of a slow start-up)."""

import subprocess
import sys

from benchmarks import startup


def test_startup_measures_every_command_in_rounds():
    results = startup.measure(rounds=2)
    assert [label for label, _, _ in results] == [label for label, _, _ in startup.commands()]
    assert all(len(walls) == 2 and min(walls) > 0 for _, _, walls in results)
    text = startup.table(results)
    assert "| `audit --version` |" in text and "| 0.3 |" in text and "| 0.6 |" in text
    assert "| floor |" in text
    assert "(python -c pass) |" in text and "(python -c 'import pandas, pyarrow') |" in text  # ratios by round


def test_imports_lists_the_heaviest_first():
    listed = [line.split("ms")[0] for line in startup.imports(top=5).splitlines()]
    assert len(listed) == 5
    assert [float(x) for x in listed] == sorted((float(x) for x in listed), reverse=True)


def test_the_command_line_imports_no_numpy_or_pandas_before_a_command_needs_it():
    code = ("import sys, audit.cli; "
            "print(sorted(m for m in ('numpy', 'pandas', 'pandera', 'numba', 'rich', 'openpyxl', 'jinja2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
