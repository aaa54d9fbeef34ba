"""JSON reports streamed a chunk of findings at a time: the same bytes as the whole document written at once."""

import dataclasses
import itertools
import json
import math

import pandas as pd
import pytest

from audit.findings import Findings
from audit.jsonfiles import json_text
from audit.report import jsonout, sarif
from audit.report.jsonstream import ITEMS, Template, items_depth, json_values, rendered, slot, streamed_json

HOSTILE = ['plain', 'a "quoted" word', "back\\slash", "line\nbreak", "tab\there", "nul\x00", "unit\x1fsep",
           "del\x7f", "é ü ✓ 🏥", "\u2028", "", "=HYPERLINK(\"x\")", "</script>"]


@pytest.mark.parametrize("values", [
    pd.Series(HOSTILE, dtype="str"),
    pd.Series(HOSTILE + [None], dtype=object),
    pd.Series(HOSTILE + [None], dtype="str"),
    pd.Series([1, -2, 30], dtype="int64"),
    pd.Series([1.5, math.nan, 1e16, 0.1], dtype="float64"),
    pd.Series([1, "one", None, 2.5, True], dtype=object),
    pd.Series([], dtype="str"),
])
def test_json_values_are_what_json_writes(values):
    plain = values.astype(object).where(values.notna(), None)
    assert json_values(values).to_pylist() == [json.dumps(v, ensure_ascii=False) for v in plain]


@pytest.mark.parametrize("frames", [[], [0], [3], [2, 0, 5, 1]])
def test_a_streamed_list_is_the_document_written_whole(frames):
    rows = [{"id": f"e{i}", "text": HOSTILE[i % len(HOSTILE)], "n": i} for i in range(sum(frames))]
    whole = {"summary": {"a": [1, 2]}, "deep": [{"items": rows, "after": None}], "end": "x"}
    skeleton = {"summary": {"a": [1, 2]}, "deep": [{"items": ITEMS, "after": None}], "end": "x"}
    shape = {"id": slot(0), "nested": {"text": slot(1), "list": [slot(2), "fixed"]}}
    template = Template(shape, items_depth(skeleton))
    whole["deep"][0]["items"] = [{"id": r["id"], "nested": {"text": r["text"], "list": [r["n"], "fixed"]}}
                                 for r in rows]
    frame = pd.DataFrame(rows, columns=["id", "text", "n"])
    cuts = [sum(frames[:i]) for i in range(len(frames) + 1)]
    parts = [frame.iloc[a:b] for a, b in itertools.pairwise(cuts)]

    def values(part):
        return [json_values(part[c]) for c in ("id", "text", "n")]

    streamed = b"".join(bytes(p) for p in streamed_json(skeleton, rendered(template, parts, values)))
    assert streamed.decode("utf-8") == json_text(whole)


@pytest.fixture(scope="module")
def hostile_result(sample_result):
    """The sample's findings with hostile text and a missing and a numeric attribute, in chunks of 2."""
    f = sample_result.findings.copy()
    f["message"] = [HOSTILE[i % len(HOSTILE)] for i in range(len(f))]
    f["found"] = f["found"].astype(object)
    f.loc[f.index[::3], "found"] = "J12.4 \"X\\\" \t"
    if "provider" in f.columns:
        f["provider"] = f["provider"].astype(object)
        f.loc[f.index[::2], "provider"] = None
    f["beds"] = range(len(f))  # a numeric attribute
    store = Findings(f.head(0), spill_rows=3)
    for start in range(0, len(f), 2):
        store.add(f.iloc[start:start + 2].reset_index(drop=True))
    return dataclasses.replace(sample_result, all_findings=store)


@pytest.mark.parametrize("report", [jsonout, sarif])
@pytest.mark.parametrize("which", ["sample_result", "hostile_result"])
def test_reports_stream_the_documents_bytes(report, which, request, tmp_path):
    result = request.getfixturevalue(which)
    out = tmp_path / "report.json"
    report.write(result, out)
    assert out.read_text(encoding="utf-8") == json_text(report.document(result))
    json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.parametrize("report", [jsonout, sarif])
def test_no_findings_is_an_empty_list(report, sample_result, tmp_path):
    result = dataclasses.replace(sample_result, all_findings=Findings(sample_result.findings.head(0)))
    out = tmp_path / "report.json"
    report.write(result, out)
    assert out.read_text(encoding="utf-8") == json_text(report.document(result))
