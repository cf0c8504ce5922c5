"""The scenario catalogue (YAML). Installed as the package ``conformance_catalogue``; see docs/scenarios.md."""
