"""pytest plugin entry point (registered as the pytest11 entry point ``dana_uat``)."""
