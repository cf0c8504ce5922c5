"""Shared test setup."""

# httpx imports httpcore (and h11) lazily, on the first request. If that first request happens inside
# one of pytester's in-process runs, pytester's sys.modules snapshot drops those modules afterwards and a
# second copy is imported later, whose exceptions httpx no longer maps (a raw httpcore.ConnectError
# escaped once). Importing them here, before any pytester run, keeps one copy for the whole session.
import h11  # noqa: F401
import httpcore  # noqa: F401
import httpcore._sync.connection_pool  # noqa: F401
