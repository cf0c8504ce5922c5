"""The ``dana-uat`` command: main (the parser and most commands), run (``dana-uat run``), evidence (bundle,
verify-bundle, the run's verdict; the error lines every command prints), doctor (and the run's preflight) and
scaffold (``dana-uat init``)."""
