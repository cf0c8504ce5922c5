"""Packages: conformance, and the scenario catalogue, whose source folder scenarios/ (where scenarios are
written and node ids point) ships as the package conformance_catalogue. Everything else is in pyproject.toml."""

from setuptools import find_namespace_packages, setup

CATALOGUE = ["conformance_catalogue"] + [f"conformance_catalogue.{p}" for p in find_namespace_packages("scenarios")]

setup(packages=find_namespace_packages(include=["conformance", "conformance.*"]) + CATALOGUE,
      package_dir={"conformance_catalogue": "scenarios"})
