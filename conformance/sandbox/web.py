"""Hosted pages (OAuth/login, agreement, checkout). Placeholder until the pages land."""


def page_routes(sandbox) -> list:
    """Starlette routes of the hosted pages, given the running Sandbox (store, clock, pay_order...)."""
    return []
