"""Every one-line condition in rulesets/README.md (the guide for coding managers) is valid."""

import re

import pytest

from tests.conftest import REPO
from tests.rules.ruletools import one_rule

README = (REPO / "rulesets" / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```yaml\n(.*?)```", README, flags=re.DOTALL)
CONDITIONS = [m.group(1) for block in BLOCKS for line in block.splitlines()
              if (m := re.match(r"^\s*(?:require: |when: )?(\{.*\})\s*(?:#.*)?$", line))]


def test_the_guide_has_conditions():
    assert len(CONDITIONS) > 30


@pytest.mark.parametrize("condition", CONDITIONS)
def test_condition_loads(tmp_path, condition):
    one_rule(tmp_path, condition)
