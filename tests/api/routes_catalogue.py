"""Every route of the application, so that tests can prove they cover all of them.

A new route makes ``test_every_route_is_catalogued`` fail until it is added here and to the
scoping and audit tests.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from sereno.entrypoints.web import console

# Routes that hold no agency data and answer without login.
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/login"),
    ("POST", "/login"),
    # The login's second step: the short-lived challenge cookie set by a right password stands
    # in for the session (tested in tests/api/test_second_factor.py).
    ("GET", "/login/code"),
    ("POST", "/login/code"),
    ("GET", "/"),
    ("GET", "/lang/{language}"),
    ("POST", "/api/v1/auth/token"),
    # Another agency's node: authenticated by its Ed25519 signature against the pinned key, not
    # by a user credential; its refusals and acceptances are audited (tests/governance).
    ("POST", "/api/v1/witness/tree-heads"),
    # Another agency's node delivering alerts: every envelope is signed by the peer node's
    # pinned key and checked; refusals and acceptances are audited (tests/exchange).
    ("POST", "/api/v1/federation/envelopes"),
}


def all_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every HTTP route, HEAD excluded: the API from its OpenAPI
    schema, the console from its router, and the application's own top-level routes."""
    found = {(method.upper(), path)
             for path, operations in app.openapi()["paths"].items() for method in operations}
    for route in _flat([*console.router.routes, *app.routes]):
        methods = getattr(route, "methods", None) or set()
        path = getattr(route, "path", None)
        if path is None or path.startswith("/static"):
            continue
        found.update((method, path) for method in methods if method != "HEAD")
    return found


def _flat(routes: list[Any]) -> list[Any]:
    """The routes, with those of routers included at the top level (console pages in their own
    modules) in place of the router: FastAPI keeps an included router as one entry of
    ``app.routes``. Routes in the OpenAPI schema are skipped there: the schema gives them with
    their prefix."""
    found: list[Any] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            found.extend(r for r in _flat(list(included.routes))
                         if not getattr(r, "include_in_schema", False))
        else:
            found.append(route)
    return found
