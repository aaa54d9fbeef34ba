"""``audit rules draft``: exit codes, -o, --id, no codes, and `audit rules show` / `test` of the draft."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from audit.cli import main

TEXTS = Path(__file__).parent / "texts"


def _run(*args):
    return CliRunner().invoke(main, ["rules", "draft", *map(str, args)])


def test_prints_the_draft_without_o():
    out = _run(TEXTS / "icd-and.coding.txt")
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith("# Drafted by `audit rules draft` from icd-and.coding.txt")
    assert "  - id: IPG908-01\n" in out.stdout


def test_o_writes_the_file_and_says_so(tmp_path):
    target = tmp_path / "draft.yaml"
    out = _run(TEXTS / "icd-and.opcs46.txt", "-o", target, "--id", "IPG327")
    assert out.exit_code == 0, out.output
    assert out.stdout == "" and "review its CHECK comments" in out.stderr
    assert "ruleset: IPG327\n" in target.read_text() and "  - id: IPG327-02\n" in target.read_text()


def test_the_draft_passes_rules_test_and_reads_like_a_hand_written_rule(tmp_path):
    target = tmp_path / "draft.yaml"
    assert _run(TEXTS / "icd-and.coding.txt", "-o", target).exit_code == 0
    runner = CliRunner()
    tested = runner.invoke(main, ["rules", "test", "--rules", str(target)])
    assert tested.exit_code == 0 and tested.stdout.strip().endswith("passed, 0 failed"), tested.output
    shown = runner.invoke(main, ["rules", "show", "IPG908-02", "--rules", str(target)]).stdout
    for part in ("IPG908-02: Synthetic ablation of colorectal liver metastases without both C78.7 and C18.-",
                 "What it checks", "Requires:", "Why", "https://www.nice.org.uk/guidance/ipg908",
                 "would be recorded", "Examples", "fails"):
        assert part in shown, part


def test_no_codes_is_exit_2_one_line_and_nothing_written(tmp_path):
    target = tmp_path / "draft.yaml"
    out = _run(TEXTS / "no-code.coding.txt", "-o", target)
    assert out.exit_code == 2 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert out.stderr.startswith("error: ") and "no OPCS-4 or ICD-10 code" in out.stderr
    assert not target.exists()


def test_a_missing_file_is_exit_2_one_line(tmp_path):
    out = _run(tmp_path / "missing.txt")
    assert out.exit_code == 2 and "Traceback" not in out.output
    assert len(out.stderr.strip().splitlines()) == 1 and "missing.txt" in out.stderr


def test_a_bad_id_is_exit_2_one_line():
    out = _run(TEXTS / "icd-and.coding.txt", "--id", "not an id")
    assert out.exit_code == 2 and len(out.stderr.strip().splitlines()) == 1 and "--id" in out.stderr


def test_an_output_folder_that_does_not_exist_is_exit_2(tmp_path):
    out = _run(TEXTS / "icd-and.coding.txt", "-o", tmp_path / "nope" / "draft.yaml")
    assert out.exit_code == 2 and "does not exist" in out.stderr
