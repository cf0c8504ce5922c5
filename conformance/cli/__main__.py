"""``python -m conformance.cli``: the ``dana-uat`` command."""

import sys

from conformance.cli.main import main

sys.exit(main())
