import random

import numpy as np
import pandas as pd
import pytest

from audit.report import output
from audit.report.output import csv_parts, write_csv_frame

PIECES = ["a", ",", '"', "\n", " ", "é", "=", "", "x y", "\t", "'", "\U0001F600", "C78.7"]


def _frames(seed: int, count: int):
    rng = random.Random(seed)
    for _ in range(count):
        n, k = rng.randint(0, 6), rng.randint(1, 4)
        frame = pd.DataFrame({
            (f"c{j}" if rng.random() < 0.8 else f"c,{j}"): pd.Series(
                ["".join(rng.choice(PIECES) for _ in range(rng.randint(0, 4))) for _ in range(n)], dtype="str")
            for j in range(k)
        })
        if rng.random() < 0.3:
            frame["line"] = np.arange(n, dtype=np.int64)
        if rng.random() < 0.3:
            frame = frame.astype({c: object for c in frame.columns if c != "line"})
        yield frame


@pytest.mark.parametrize("rows_at_a_time", [2, 65_536])
def test_csv_is_what_pandas_writes(monkeypatch, rows_at_a_time):
    monkeypatch.setattr(output, "_CSV_ROWS", rows_at_a_time)
    for frame in _frames(seed=rows_at_a_time, count=500):
        parts = csv_parts(frame)
        assert parts is not None
        assert b"".join(bytes(p) for p in parts) == frame.to_csv(index=False, lineterminator="\n").encode()


def test_a_lone_carriage_return_is_quoted_too():
    frame = pd.DataFrame({"a": ["x\ry", "z"], "b": ["1", "2"]})
    assert b"".join(bytes(p) for p in csv_parts(frame)) == b'a,b\n"x\ry",1\nz,2\n'


def test_other_columns_are_left_to_pandas(tmp_path):
    frame = pd.DataFrame({"rule": ["=A", "B"], "rate": [0.5, float("nan")]})
    assert csv_parts(frame) is None
    write_csv_frame(frame, tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text() == "rule,rate\n'=A,0.5\nB,\n"
