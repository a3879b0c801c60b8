"""Request body limits, enforced before the body reaches a parser (pure ASGI middleware)."""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    """Refuse bodies above ``default_limit`` bytes (``upload_limit`` on upload paths) with 413.

    Checks the declared Content-Length first and then counts what actually arrives, so a
    chunked or lying client cannot slip past.
    """

    def __init__(self, app: ASGIApp, default_limit: int, upload_limit: int,
                 upload_paths: tuple[str, ...]) -> None:
        self.app = app
        self.default_limit = default_limit
        self.upload_limit = upload_limit
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = (self.upload_limit if scope["path"].startswith(self.upload_paths)
                 else self.default_limit)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        if declared is not None:
            # Trust but verify: a client sending more than it declared is cut off.
            await self.app(scope, _capped(receive, int(declared) if declared.isdigit() else 0),
                           send)
            return
        # No declared length (chunked): read up to the limit first, then replay it. The app
        # would otherwise see a half-read body and answer with a vague parse error.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _capped(receive: Receive, declared: int) -> Receive:
    received = 0

    async def capped() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > declared:
                return {"type": "http.disconnect"}
        return message

    return capped


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"error": {"code": "payload_too_large",
                                 "message": f"the request body exceeds {limit} bytes",
                                 "details": [{"limit_bytes": limit}]}}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """Conservative browser security headers on every response."""

    def __init__(self, app: ASGIApp, tile_origin: str | Callable[[], str] = "") -> None:
        self.app = app
        # The tile origin may change while running (the egress registry decides): a callable
        # is asked on every response and the headers are rebuilt when its answer changes.
        self._tile_origin = tile_origin
        self._built_for: str | None = None
        self.HEADERS: list[tuple[bytes, bytes]] = []
        self._headers()

    def _headers(self) -> list[tuple[bytes, bytes]]:
        origin = self._tile_origin() if callable(self._tile_origin) else self._tile_origin
        if origin != self._built_for:
            images = f"'self' data: blob: {origin}".strip()
            policy = (f"default-src 'self'; img-src {images}; style-src 'self'; "
                      "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                      "form-action 'self'")
            self.HEADERS = [
                (b"x-content-type-options", b"nosniff"),
                (b"x-frame-options", b"DENY"),
                (b"referrer-policy", b"same-origin"),
                (b"content-security-policy", policy.encode()),
            ]
            self._built_for = origin
        return self.HEADERS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + self._headers()
            await send(message)

        await self.app(scope, receive, with_headers)
