"""Packaging that pyproject.toml cannot say: rulesets/ installs as the package ``audit.rulesets``.

Each folder of rulesets/ (builtin, nice, ...) is a data-only namespace package, so a new folder of
YAML rules ships without touching this file.
"""

from setuptools import find_namespace_packages, find_packages, setup

rulesets = ["audit.rulesets"] + [f"audit.rulesets.{p}" for p in find_namespace_packages(where="rulesets")]

setup(
    packages=find_packages(include=["audit", "audit.*"]) + rulesets,
    package_dir={"audit.rulesets": "rulesets"},
    package_data={p: ["*.yaml", "*.yml", "*.md"] for p in rulesets},
)
