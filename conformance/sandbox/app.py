"""Routes only: the Widget APIs (through the pipeline), the admin API and the hosted pages."""

from __future__ import annotations

import asyncio
import contextlib
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from conformance.sandbox import pipeline, web
from conformance.sandbox.admin import admin_routes
from conformance.sandbox.handlers import HANDLERS
from conformance.sandbox.sandbox_tools import sandbox_tools_routes
from conformance.snap.apis import APIS


def create_app(sandbox, *, on_startup=None) -> Starlette:
    """The sandbox app; ``on_startup()`` is called once the server loop runs (readiness)."""
    async def api(request: Request):
        return await pipeline.handle(sandbox, request, HANDLERS)

    api_paths = sorted({p for a in APIS.values() if a.family != "notify" for p in a.paths})
    # Every method reaches the pipeline, which answers non-POST with a SNAP-shaped 405.
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    routes = [Route(path, api, methods=methods) for path in api_paths]
    routes += admin_routes(sandbox)
    routes += list(web.page_routes(sandbox))
    routes += sandbox_tools_routes(sandbox)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        sandbox.attach_loop(asyncio.get_running_loop())
        if on_startup is not None:
            on_startup()
        yield

    async def not_routed(request: Request, exc):
        status = getattr(exc, "status_code", 500)
        message = {404: "Not Found", 405: "Method Not Allowed"}.get(status, "Internal Server Error")
        code = pipeline.not_routed(status if status in (404, 405) else 500, message)
        return pipeline.respond(sandbox, code, {}, time.perf_counter())

    # Unknown paths and unexpected errors outside the pipeline are SNAP-shaped too (no traceback).
    handlers = {404: not_routed, 405: not_routed, Exception: not_routed}
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers)
    # No 307 to the path without its trailing slash: DANA answers an unknown path with a SNAP 404.
    app.router.redirect_slashes = False
    return app
