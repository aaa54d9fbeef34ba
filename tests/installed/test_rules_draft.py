"""``audit rules draft`` as users get it: the installed wheel, run from a folder outside the checkout."""

import shutil

from tests.conftest import REPO

TEXTS = REPO / "tests" / "draft" / "texts"


def test_draft_a_saved_page_then_test_it(installed, user_folder):
    shutil.copy(TEXTS / "approach-groups.opcs46.txt", user_folder / "page.txt")
    out = installed.run("rules", "draft", "page.txt", "-o", "ipg901.yaml", "--id", "IPG901", cwd=user_folder)
    assert out.returncode == 0, out.stderr
    assert "ruleset: IPG901" in (user_folder / "ipg901.yaml").read_text(encoding="utf-8")
    tested = installed.run("rules", "test", "--rules", "ipg901.yaml", cwd=user_folder)
    assert tested.returncode == 0 and tested.stdout.strip().endswith("passed, 0 failed"), tested.stdout


def test_a_page_with_no_codes_is_exit_2_one_line(installed, user_folder):
    shutil.copy(TEXTS / "no-code.coding.txt", user_folder / "page.txt")
    out = installed.run("rules", "draft", "page.txt", "-o", "x.yaml", cwd=user_folder)
    assert out.returncode == 2 and out.stdout == "" and len(out.stderr.strip().splitlines()) == 1
    assert not (user_folder / "x.yaml").exists()
