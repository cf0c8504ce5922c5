"""Repo-local pytest settings only. The product's plugin lives in conformance/run/plugin.py (entry point
``dana_uat``) and is active in every pytest run of the venv; nothing about it is configured here."""

# The engine's tests run isolated pytest sessions (pytester) against the embedded sandbox.
pytest_plugins = ["pytester"]
