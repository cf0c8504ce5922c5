"""The ``dana-uat`` command."""

import sys


def main(argv=None) -> int:
    print("dana-uat: not implemented yet", file=sys.stderr)
    return 2
