"""The merchant's side as the suite plays it: the signed SNAP client (snap_client), bind URLs (binding) and their
linter (bindlint), Finish Notify verification and grading (webhook), the loopback endpoints DANA calls back
(receiver). Imports only the protocol (``snap``) and ``findings``."""
