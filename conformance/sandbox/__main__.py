"""``python -m conformance.sandbox``: same as ``dana-uat sandbox``."""

import sys

from conformance.sandbox.cli import main

sys.exit(main())
