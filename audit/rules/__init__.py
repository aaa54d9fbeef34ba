"""Declarative coding rules: the YAML language, its loader and the rule model."""

from audit.rules.loader import load_rule_file, load_rules, shipped_rules_dir
from audit.rules.model import Example, Rule, RuleSet, Source, Variant

__all__ = ["Example", "Rule", "RuleSet", "Source", "Variant", "load_rule_file", "load_rules", "shipped_rules_dir"]
