"""Packaging that pyproject.toml cannot say: rulesets/ installs as the package ``audit.rulesets``.

Each folder of rulesets/ (builtin, nice, ...) is a data-only namespace package, so a new folder of
YAML rules ships without touching this file. Every non-Python file inside ``audit/`` (report
templates, reference data) ships too: ``tests/test_packaging.py`` checks the wheel against the tree.
"""

from setuptools import find_namespace_packages, find_packages, setup

RULESET_DATA = ["*.yaml", "*.yml", "*.md", "*.csv", "*.txt"]
PACKAGE_DATA = ["*.j2", "*.css", "*.js", "*.json", "*.yaml", "*.yml", "*.csv", "*.tsv", "*.txt", "*.md", "*.sql"]

rulesets = ["audit.rulesets"] + [f"audit.rulesets.{p}" for p in find_namespace_packages(where="rulesets")]
packages = find_namespace_packages(include=["audit", "audit.*"], exclude=["audit.rulesets*"])

setup(
    packages=packages + rulesets,
    package_dir={"audit.rulesets": "rulesets"},
    package_data={**{p: PACKAGE_DATA for p in packages}, **{p: RULESET_DATA for p in rulesets}},
)
