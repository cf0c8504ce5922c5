"""The ``dana-uat`` command: main (the parser and most commands), evidence (bundle, verify-bundle, the run's
verdict), doctor (and the run's preflight) and scaffold (``dana-uat init``)."""
