from pathlib import Path

import pytest

from audit.errors import UserError
from audit.report import FORMATS
from audit.report.targets import FORMAT_NAMES, Target, infer_format, resolve_targets


def test_format_names_match_registered_writers():
    assert set(FORMAT_NAMES) == set(FORMATS)


@pytest.mark.parametrize("name, fmt", [
    ("a.csv", "csv"), ("a.JSON", "json"), ("a.jsonl", "jsonl"), ("a.ndjson", "jsonl"), ("a.parquet", "parquet"),
    ("a.xlsx", "xlsx"), ("r.html", "html"), ("r.htm", "html"), ("r.xml", "junit"), ("r.junit.xml", "junit"),
    ("r.sarif", "sarif"), ("r.sarif.json", "sarif"), ("r.txt", "table"), ("r.doc", None),
    ("noext", None)])
def test_infer_format(name, fmt):
    assert infer_format(Path(name)) == fmt


def test_default_is_table_on_stdout():
    assert resolve_targets((), ()) == [Target("table", None)]


def test_single_format_goes_to_stdout():
    assert resolve_targets(("json",), ()) == [Target("json", None)]


def test_outputs_alone_infer_formats():
    assert resolve_targets((), (Path("r.html"), Path("a.csv"))) == [Target("html", Path("r.html")),
                                                                    Target("csv", Path("a.csv"))]


def test_formats_and_outputs_pair_in_order():
    got = resolve_targets(("csv", "html", "table"), (Path("a.csv"), Path("r.html"), Path("t.out")))
    assert got == [Target("csv", Path("a.csv")), Target("html", Path("r.html")), Target("table", Path("t.out"))]


def test_dash_is_stdout():
    assert resolve_targets(("json", "csv"), (Path("-"), Path("a.csv")))[0] == Target("json", None)


@pytest.mark.parametrize("formats, outputs, problem", [
    (("csv",), (Path("r.html"),), "the extension says html"),
    ((), (Path("report.doc"),), "cannot tell the format"),
    (("csv", "json"), (), "more than one report would go to standard output"),
    (("csv", "json", "html"), (Path("a.csv"),), r"standard output \(json, html\)"),
    (("csv",), (Path("a"), Path("b")), "cannot tell the format"),
    (("csv", "json"), (Path("-"), Path("-")), "more than one report would go to standard output"),
    ((), (Path("a.csv"), Path("a.csv")), "given twice"),
    ((), (Path("no/such/folder/r.html"),), "does not exist"),
])
def test_mismatches_are_user_errors(formats, outputs, problem):
    with pytest.raises(UserError, match=problem):
        resolve_targets(formats, outputs)


def test_binary_format_refuses_a_terminal():
    with pytest.raises(UserError, match="binary"):
        resolve_targets(("xlsx",), (), stdout_is_terminal=True)
    assert resolve_targets(("xlsx",), (), stdout_is_terminal=False) == [Target("xlsx", None)]


def test_the_ci_line_works_as_written():
    """Files take their format from the extension; a --format left over goes to standard output."""
    targets = resolve_targets(("github",), (Path("report.html"), Path("junit.xml"), Path("results.sarif")),
                              stdout_is_terminal=False)
    assert targets == [Target("html", Path("report.html")), Target("junit", Path("junit.xml")),
                       Target("sarif", Path("results.sarif")), Target("github", None)]


def test_a_format_named_by_an_extension_is_used_up_and_the_rest_pair_in_order():
    targets = resolve_targets(("csv", "json"), (Path("a.csv"), Path("findings"), Path("r.html")),
                              stdout_is_terminal=False)
    assert targets == [Target("csv", Path("a.csv")), Target("json", Path("findings")),
                       Target("html", Path("r.html"))]
