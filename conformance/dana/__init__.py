"""The door to DANA's side: the target a run talks to (the embedded sandbox, a shared ``dana-uat sandbox``, DANA's
sandbox or production), which of DANA's failures are flakiness to retry, and in production the real person's
account, asked on the console."""
