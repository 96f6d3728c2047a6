"""Limits on what a request may carry, checked before a route reads anything.

- a query string over `max_query_bytes`: 414;
- a body over `max_body_bytes`: 413, from the Content-Length header before the body
  is read, and while reading when the client sends it in chunks;
- a NUL character in the path, the query string or a form or JSON body: 400. No
  text field may hold one; PostgreSQL refuses it in text with a database error.

Every answer is B1 Dutch: the error page for people, the API's error schema
(``detail`` and ``message``) under /api/.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from fastapi.responses import JSONResponse, Response
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOO_LONG_URL = (
    "Het adres van deze pagina is te lang. Maak uw zoekvraag korter en probeer het opnieuw."
)
NUL_CHARACTER = (
    "Uw invoer bevat een teken dat niet is toegestaan (een nul-teken). Haal het weg en "
    "probeer het opnieuw."
)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def too_large_message(max_bytes: int) -> str:
    return (
        f"U stuurt te veel gegevens in één keer (meer dan {max(1, max_bytes // 1024)} kB). "
        "Maak het kleiner en probeer het opnieuw."
    )


def error_response(scope: Scope, status: int, title: str, message: str) -> Response:
    """The error answer for a request no route has seen: JSON under /api/, else the page."""
    if str(scope.get("path", "")).startswith("/api/"):
        return JSONResponse({"detail": message, "message": message}, status_code=status)
    templates = scope["app"].state.templates
    values = {
        "ctx": {"title": title, "message": message},
        "user": None,
        # an error page has no form, so it carries no CSRF token
        "csrf_token": "",  # nosec B105
        "partial_only": False,
    }
    response: Response = templates.TemplateResponse(
        Request(scope), "errors/error.html", values, status_code=status
    )
    return response


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key.lower() == b"content-length":
            text = bytes(value).strip()
            return int(text) if text.isdigit() and len(text) < 19 else None
    return None


def _content_type(scope: Scope) -> bytes:
    for key, value in scope.get("headers", []):
        if key.lower() == b"content-type":
            return bytes(value).lower()
    return b""


def _body_has_nul(content_type: bytes, body: bytes) -> bool:
    if b"\x00" in body and not content_type.startswith(b"multipart/"):
        return True
    if content_type.startswith(b"application/x-www-form-urlencoded"):
        return b"\x00" in unquote_to_bytes(body)
    if b"json" in content_type:
        return b"\\u0000" in body
    return False


class LimitsMiddleware:
    """See the module docstring. Sits inside the session middleware, so the error page
    can be rendered the usual way."""

    def __init__(self, app: ASGIApp, *, max_query_bytes: int, max_body_bytes: int) -> None:
        self.app = app
        self.max_query_bytes = max_query_bytes
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = bytes(scope.get("query_string", b""))
        if len(query) > self.max_query_bytes:
            await self._refuse(scope, receive, send, 414, "Adres te lang", TOO_LONG_URL)
            return
        if "\x00" in str(scope.get("path", "")) or b"\x00" in unquote_to_bytes(query):
            await self._refuse(scope, receive, send, 400, "Teken niet toegestaan", NUL_CHARACTER)
            return
        length = _content_length(scope)
        if length is not None and length > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        if scope.get("method") not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        body, complete = await self._read_body(receive)
        if not complete:
            await self._too_large(scope, receive, send)
            return
        if _body_has_nul(_content_type(scope), body):
            await self._refuse(scope, receive, send, 400, "Teken niet toegestaan", NUL_CHARACTER)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read_body(self, receive: Receive) -> tuple[bytes, bool]:
        """The whole body, or (what was read, False) once it passes the limit."""
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks), True
            chunk = bytes(message.get("body", b""))
            total += len(chunk)
            if total > self.max_body_bytes:
                return b"", False
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), True

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = too_large_message(self.max_body_bytes)
        await self._refuse(scope, receive, send, 413, "Te veel gegevens", message)

    @staticmethod
    async def _refuse(
        scope: Scope, receive: Receive, send: Send, status: int, title: str, message: str
    ) -> None:
        response = error_response(scope, status, title, message)
        # The unread body stays on the connection; closing it is cleaner than a
        # keep-alive the client may send the rest of the body on.
        response.headers["connection"] = "close"
        await response(scope, receive, send)
