"""Configuration: the settings a run reads (command line, environment, ``.env``, ``[tool.dana-uat]``) and the TLS
trust every HTTP client uses. Imports only the protocol (``snap``)."""
