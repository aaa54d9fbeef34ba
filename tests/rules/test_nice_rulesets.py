"""The shipped NICE guidance rulesets: at least 25, each citing its guidance id and address."""

import re

import yaml

from tests.conftest import REPO

NICE = REPO / "rulesets" / "nice"


def _rulesets():
    return {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(NICE.glob("*.yaml"))}


def test_at_least_25_nice_rulesets_ship():
    assert len(_rulesets()) >= 25


def test_each_nice_ruleset_cites_its_guidance_id_and_url():
    for name, doc in _rulesets().items():
        source = doc["source"]
        gid = source["guidance"]
        assert re.fullmatch(r"(IPG|HTG)\d+", gid), name
        assert source["url"] == f"https://www.nice.org.uk/guidance/{gid.lower()}", name
        assert name.startswith(gid.lower() + "-"), name
        assert doc["ruleset"] == gid, name
        for rule in doc["rules"]:
            assert rule["id"].startswith(gid + "-"), (name, rule["id"])
            assert rule["source"]["text"].strip(), (name, rule["id"])
            assert rule["examples"]["pass"] and rule["examples"]["fail"], (name, rule["id"])


def test_optional_codes_are_never_errors():
    """A rule whose source says "may", "if used" or "where necessary" about its codes is not an error."""
    for name, doc in _rulesets().items():
        for rule in doc["rules"]:
            if rule.get("severity") == "error":
                assert not re.search(r"\b(may also be assigned|if image control has been used)\b",
                                     rule["source"]["text"]), (name, rule["id"])
