"""Packaging that pyproject.toml cannot say: rulesets/ installs as the package ``audit.rulesets``."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["audit", "audit.*"]) + ["audit.rulesets"],
    package_dir={"audit.rulesets": "rulesets"},
)
