"""The application log: JSON lines an auditor can filter, and an access log without
query strings.

Every line carries time (UTC), level, logger, message, the request id and the
user of the session. ``python -m wijzer serve`` calls `configure` before the
server starts; tests call it with their own stream.

The access log never writes a query string: the search sends a child's
sensitive attributes (``kenmerken``) as query parameters, and those must not end
up in a log file.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import secrets
import sys
import time
from typing import IO, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wijzer.auth import SESSION_USER_KEY

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
current_user: contextvars.ContextVar[str] = contextvars.ContextVar("current_user", default="-")

access_log = logging.getLogger("wijzer.access")
security_log = logging.getLogger("wijzer.security")

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is written too.
# (uvicorn adds `color_message`, the message with terminal colour codes: left out.)
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
            "user": current_user.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in out:
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure(stream: IO[str] | None = None, level: int = logging.INFO) -> logging.Handler:
    """Send every log record (the wijzer's and the server's) as JSON lines to `stream`
    (standard error by default). Returns the handler, so a test can remove it."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_wijzer", False):
            root.removeHandler(old)
    handler._wijzer = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        # The server's own lines go through the same JSON handler (via the root).
        server = logging.getLogger(name)
        server.handlers.clear()
        server.propagate = True
    # The server's access log writes full URLs, query strings included: switched off;
    # AccessLogMiddleware writes the access log instead.
    for name in ("httpx", "httpcore", "httpx2", "httpcore2"):
        # An HTTP client logs every URL it calls, query string included.
        logging.getLogger(name).setLevel(logging.WARNING)
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers.clear()
    uvicorn_access.propagate = False
    uvicorn_access.disabled = True
    return handler


def _session_user(scope: Scope) -> str | None:
    session = scope.get("session")
    if isinstance(session, dict):
        user = session.get(SESSION_USER_KEY)
        if isinstance(user, str):
            return user
    return None


class AccessLogMiddleware:
    """Gives every request an id, keeps the session's user for the log lines, writes
    one access line per request (method, path without query string, status, time) and
    a security event for every download (an export)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = secrets.token_hex(6)
        rid_token = request_id.set(rid)
        user_token = current_user.set(_session_user(scope) or "-")
        started = time.perf_counter()
        status = 500
        attachment = ""

        async def send_logged(message: Message) -> None:
            nonlocal status, attachment
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                message["headers"] = headers
                for key, value in headers:
                    if key.lower() == b"content-disposition":
                        attachment = bytes(value).decode("latin-1")
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            path = str(scope.get("path", ""))
            # After a login the session names the user; after a logout, the one before.
            current_user.set(_session_user(scope) or current_user.get())
            if attachment.startswith("attachment") and status < 400:
                security_log.info("export %s %s", path, attachment.split("filename=")[-1])
            access_log.info(
                "%s %s %d %.0fms",
                scope.get("method", "-"),
                path,
                status,
                (time.perf_counter() - started) * 1000,
                extra={"client": (scope.get("client") or ("-",))[0]},
            )
            request_id.reset(rid_token)
            current_user.reset(user_token)
