"""Routes only: the Widget APIs (through the pipeline), the admin API and the hosted pages."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route

from conformance.sandbox import pipeline, web
from conformance.sandbox.access import OPEN_ACCESS, AdminAccess, as_access
from conformance.sandbox.admin import PREFIX as ADMIN_PREFIX
from conformance.sandbox.admin import admin_routes
from conformance.sandbox.handlers import HANDLERS
from conformance.sandbox.sandbox_tools import sandbox_tools_routes
from conformance.sandbox.statefile import CommitBeforeAnswer
from conformance.snap.apis import APIS

OFF_LOOP_BODY = 16 * 1024


def create_app(sandbox, *, on_startup=None, admin: AdminAccess | bool = OPEN_ACCESS) -> Starlette:
    """The sandbox app; ``on_startup()`` is called once the server loop runs (readiness). ``admin`` says whether
    the admin API is mounted, and behind what (sandbox/access.py, its one switch); ``False`` (the DANA twin,
    sandbox/twin.py, or --no-admin) serves only what DANA serves: the SNAP APIs and the hosted pages."""
    async def api(request: Request):
        response = await pipeline.handle(sandbox, request, HANDLERS)
        # Graded and journalled before the answer leaves, so the journal never lags the merchant;
        # a large body is graded off the event loop (hashing it must not stall other requests).
        raw = getattr(request.state, "raw_body", None)
        record = functools.partial(sandbox.journal.record, request.method, request.url.path, request.headers,
                                   raw, response.status_code, response.body)
        if raw is not None and len(raw) > OFF_LOOP_BODY:
            await anyio.to_thread.run_sync(record)
        else:
            record()
        return response

    api_paths = sorted({p for a in APIS.values() if a.family != "notify" for p in a.paths})
    # Every method reaches the pipeline, which answers non-POST with a SNAP-shaped 405.
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    routes = [Route(path, api, methods=methods) for path in api_paths]
    routes += list(web.page_routes(sandbox))
    access = as_access(admin)
    if access.mounted:     # DANA's sandbox-tools live on DANA's dashboard host, not on the API or page hosts
        routes += admin_routes(sandbox, access) + sandbox_tools_routes(sandbox)

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
        response = pipeline.respond(sandbox, code, {}, time.perf_counter())
        if request.method == "POST" and not request.url.path.startswith(ADMIN_PREFIX):
            # A merchant posting to a path no API owns (a wrong base URL) is journalled too.
            sandbox.journal.record(request.method, request.url.path, request.headers, None,
                                   response.status_code, response.body)
        return response

    # Unknown paths and unexpected errors outside the pipeline are SNAP-shaped too (no traceback).
    handlers = {404: not_routed, 405: not_routed, Exception: not_routed}
    # --state: every request's changes are committed before its answer leaves (sandbox/statefile.py)
    middleware = [] if sandbox.state is None else [Middleware(CommitBeforeAnswer, state=sandbox.state)]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers, middleware=middleware)
    # No 307 to the path without its trailing slash: DANA answers an unknown path with a SNAP 404.
    app.router.redirect_slashes = False
    return app
