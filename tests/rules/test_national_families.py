"""The national family rulesets (never-primary, coded together, symptoms, companions, sequencing, adverse
effects, fifth characters, never-coded; OPCS-4 site and laterality, companions, excludes) on a synthetic
extract: everyday correctly coded episodes get none of their findings, and each mis-coded episode gets
exactly the one finding of its defect."""

from pathlib import Path

from audit.pipeline import run_audit
from audit.rules import load_rules
from tests.conftest import REPO

SAMPLE = REPO / "tests" / "fixtures" / "national" / "hes_families_sample.csv"
FAMILY_FILES = {
    "icd10-never-primary.yaml", "icd10-coded-together.yaml", "icd10-symptoms.yaml", "icd10-companions.yaml",
    "icd10-sequencing.yaml", "icd10-adverse-effects.yaml", "icd10-fifth-characters.yaml",
    "icd10-never-coded.yaml", "opcs4-site-laterality.yaml", "opcs4-companions.yaml", "opcs4-excludes.yaml",
    "opcs4-sequencing.yaml",
}
EXPECTED = {  # F01-F20 are coded correctly: no finding
    "G01": {"NAT-ICD-SYM-02"},    # chest pain with a myocardial infarction
    "G02": {"NAT-ICD-TOG-16"},    # I64 with I63
    "G03": {"NAT-ICD-NP-04"},     # personal history of cancer as the primary diagnosis
    "G04": {"NAT-ICD-NC-02"},     # Z72.0 (F17.1 in the UK)
    "G05": {"NAT-ICD-CHR-03"},    # gout without its site
    "G06": {"NAT-ICD-WITH-01"},   # parastomal hernia without Z93
    "G07": {"NAT-ICD-WITH-12"},   # hip fracture without an external cause
    "G08": {"NAT-ICD-SEQ-02"},    # leg ulcer before its diabetes
    "G09": {"NAT-ICD-ADV-12"},    # R25.1 with an adverse-effect code (G25.1 exists)
    "G10": {"NAT-ICD-ADV-07"},    # drug-induced pancreatitis without the drug
    "G11": {"NAT-OPCS-SITE-01"},  # CT without a site code
    "G12": {"NAT-OPCS-SITE-07"},  # knee replacement without laterality
    "G13": {"NAT-OPCS-EXC-07"},   # open and laparoscopic approach in one block
    "G14": {"NAT-OPCS-EXC-11"},   # diagnostic with therapeutic colonoscopy (a warning)
    "G15": {"NAT-OPCS-EXC-03"},   # X74 with a high-cost drug
    "G16": {"NAT-ICD-SEQ-05"},    # contact code first, then the disease
    "G17": {"NAT-ICD-NP-08"},     # burn extent first although the site is coded
}


def test_families_fire_only_on_their_defects():
    rules = load_rules()
    family = {r.id for r in rules if Path(r.path).name in FAMILY_FILES}
    assert len(family) >= 150
    result = run_audit(SAMPLE, rules)
    got: dict[str, set[str]] = {}
    for episode, rule in zip(result.findings["episode_id"], result.findings["rule_id"]):
        if rule in family:
            got.setdefault(episode, set()).add(rule)
    assert got == EXPECTED
    assert not result.findings["rule_id"].str.startswith("DATA-").any()
    assert result.episodes_read == result.episodes_audited == 37


def test_every_family_rule_cites_a_source_and_says_what_it_expects():
    for rule in load_rules():
        if Path(rule.path).name in FAMILY_FILES:
            assert rule.source.text and rule.expected and rule.description, rule.id
            assert rule.severity in ("error", "warning"), rule.id
