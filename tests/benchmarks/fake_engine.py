"""Stand-in for `audit run FILE --format csv --output OUT` used by the run.py tests.

Writes the DuckDB peer's findings as a CSV with episode_id, rule_id, severity and message columns.
Usage: python fake_engine.py FILE OUT
"""

import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks import duckdb_peer


def main() -> int:
    source, out = sys.argv[1], sys.argv[2]
    with open(out, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["episode_id", "rule_id", "severity", "message"])
        for episode, rule, severity in duckdb_peer.findings(source):
            writer.writerow([episode, rule, severity.upper(), f"{rule} failed"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
