"""``audit rules lint`` as users get it: the installed wheel, run from a folder outside the checkout."""

from tests.conftest import REPO

BAD = """\
ruleset: MINE
source: {guidance: LOCAL, text: our rule}
codesets:
  sepsis: "A40, A41, A41.9"
rules:
  - id: MINE-01
    title: R65.1 not after sepsis
    severity: error
    require: {every_diagnosis: R65.1, directly_preceded_by: "@sepsis"}
    unless_rule: MINE-09
    expected: R65.1 after its sepsis code
    message: "found {found}"
    examples: {pass: [{diagnoses: [A41.9, R65.1]}], fail: [{diagnoses: [R65.1]}]}
"""


def test_the_shipped_rulesets_lint_clean(installed, user_folder):
    out = installed.run("rules", "lint", cwd=user_folder)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout == "" and out.stderr.strip().endswith("rule files: no problems")


def test_a_users_rule_file_with_problems_exits_1_naming_file_and_line(installed, user_folder):
    (user_folder / "mine.yaml").write_text(BAD, encoding="utf-8")
    out = installed.run("rules", "lint", "--rules", "mine.yaml", cwd=user_folder)
    assert out.returncode == 1, out.stderr
    assert out.stdout.splitlines() == [
        "mine.yaml:6: MINE-01: in pattern '@sepsis (A40, A41, A41.9)', A41.9 is already covered by A41",
        "mine.yaml:6: MINE-01: unless_rule names MINE-09, which is not a rule",
    ]
    out = installed.run("rules", "lint", "--extend-rules", "mine.yaml", cwd=user_folder)  # with the shipped ones
    assert out.returncode == 1 and len(out.stdout.splitlines()) == 2


def test_with_the_classification_tables_unknown_codes_are_reported(installed, user_folder):
    (user_folder / "mine.yaml").write_text(BAD.replace("A40, A41, A41.9", "A41.9, A39.9").replace(
        "    unless_rule: MINE-09\n", ""), encoding="utf-8")
    reference = REPO / "tests" / "fixtures" / "reference"
    out = installed.run("rules", "lint", "--rules", "mine.yaml", "--reference", reference, cwd=user_folder)
    assert out.returncode == 1
    assert out.stdout.splitlines() == [
        "mine.yaml:6: MINE-01: A39.9 (in '@sepsis (A41.9, A39.9)') is not in the ICD-10 classification"]
