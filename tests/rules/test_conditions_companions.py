"""Episode-level relations: coded with, not coded with ... unless ..., not coded together."""

from tests.rules.ruletools import findings, holds, one_rule


def test_must_be_coded_with(tmp_path):
    rows = [{"diagnoses": ["C78.7", "C18.7"]}, {"diagnoses": ["C79.2", "Z85.0"]}, {"diagnoses": ["C78.7"]},
            {"diagnoses": ["I10X"]}]
    cond = "{every_diagnosis: C77-C79, coded_with: 'C00-C76, C80, Z85'}"
    assert holds(tmp_path, cond, rows) == [True, True, False, True]


def test_cannot_be_coded_with(tmp_path):
    rows = [{"diagnoses": ["O80.0", "Z33X"]}, {"diagnoses": ["S82.00", "Z33X"]}, {"diagnoses": ["O80.0"]}]
    assert holds(tmp_path, "{every_diagnosis: Z33, not_coded_with: O00-O99}", rows) == [False, True, True]


def test_cannot_be_coded_with_unless(tmp_path):
    rows = [
        {"diagnoses": ["C83.3", "C77.2"]},           # secondary with lymphoma: no
        {"diagnoses": ["C83.3", "C78.7", "C18.7"]},  # unless another primary
        {"diagnoses": ["C83.3", "C77.2", "Z85.0"]},  # or a history of one
        {"diagnoses": ["C83.3"]},
    ]
    cond = "{every_diagnosis: C81-C96, not_coded_with: C77-C79, unless: 'C00-C75, C80, Z85'}"
    assert holds(tmp_path, cond, rows) == [False, True, True, True]


def test_coded_with_a_condition_of_the_other_classification(tmp_path):
    rows = [{"diagnoses": ["C78.7"], "procedures": ["J12.4"]}, {"diagnoses": ["C78.7"], "procedures": ["K40.1"]}]
    cond = "{every_diagnosis: C78.7, coded_with: {procedure: J12}}"
    assert holds(tmp_path, cond, rows) == [True, False]


def test_not_coded_together(tmp_path):
    rows = [{"diagnoses": ["E10.9", "E11.9"]}, {"diagnoses": ["E10.9", "E10.6"]}, {"diagnoses": ["E14.9", "I10X"]},
            {"diagnoses": ["I10X", "E14.9", "E11.9"]}]
    cond = "{not_coded_together: {diagnosis: [E10, E11, E14]}}"
    assert holds(tmp_path, cond, rows) == [False, True, True, False]


def test_found_lists_the_codes_of_every_group(tmp_path):
    rule = one_rule(tmp_path, "{not_coded_together: {diagnosis: [N18.1, N18.2, N18.3, N18.4, N18.5, N18.9]}}")
    got = findings(rule, [{"id": "a", "diagnoses": ["N18.3", "I10X", "N18.5"]}])
    assert got["found"].tolist() == ["N18.3 N18.5"]


def test_found_of_unless_rule_shows_all_involved_codes(tmp_path):
    rule = one_rule(tmp_path, "{every_diagnosis: C81-C96, not_coded_with: C77-C79, unless: Z85}")
    got = findings(rule, [{"id": "a", "diagnoses": ["C83.3", "I10X", "C77.2"]}])
    assert got["found"].tolist() == ["C83.3 C77.2"]
