"""Security headers and CSRF protection.

The CSRF token lives in the signed session and must come back with every
state-changing request, either as the form field ``csrf_token`` or as the
``X-CSRF-Token`` header (htmx and API clients).
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Iterable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wijzer.errors import WijzerError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_SESSION_KEY = "csrf"
CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response, errors included.

    Pages can hold case data, so nothing but the vendored static files may be
    cached by the browser or a proxy.
    """

    def __init__(self, app: ASGIApp, static_prefix: str = "/static/") -> None:
        self.app = app
        self.static_prefix = static_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        is_static = path.startswith(self.static_prefix)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                if not is_static and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # An unexpected error would otherwise reach the server's outermost handler,
            # which answers without these headers and in English. Answer here, then
            # re-raise so the error is still logged.
            if not started:
                await _server_error(path, send_with_headers)
            raise


SERVER_ERROR = "Er ging iets mis bij de wijzer. Probeer het later opnieuw."


async def _server_error(path: str, send: Send) -> None:
    if path.startswith("/api/"):
        body = json.dumps({"detail": SERVER_ERROR, "message": SERVER_ERROR}).encode()
        content_type = b"application/json"
    else:
        body = f'<!doctype html><html lang="nl"><title>Fout</title><p>{SERVER_ERROR}</p>'.encode()
        content_type = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [(b"content-type", content_type), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})


class CsrfError(WijzerError):
    """The request changes state but did not carry the session's CSRF token."""

    default_user_message = (
        "Het formulier is verlopen. Laad de pagina opnieuw en probeer het nog eens."
    )


def csrf_token(request: Request) -> str:
    """The session's CSRF token; created on first use."""
    token = request.session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return token


def rotate_csrf_token(request: Request) -> str:
    """A new token, e.g. after login, so a token seen before login is worthless."""
    token = secrets.token_urlsafe(32)
    request.session[CSRF_SESSION_KEY] = token
    return token


async def _sent_token(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FORM_FIELD)
        return value if isinstance(value, str) else None
    return None


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: every unsafe method needs the session's token."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get(CSRF_SESSION_KEY)
    sent = await _sent_token(request)
    if (
        not isinstance(expected, str)
        or not expected
        or sent is None
        or not hmac.compare_digest(expected.encode(), sent.encode())
    ):
        raise CsrfError


def unsafe_methods(methods: Iterable[str]) -> set[str]:
    return {m for m in methods if m not in SAFE_METHODS}
