"""How the wijzer is served: the uvicorn options and the JSON log, the same for
``python -m wijzer serve`` and ``python -m wijzer demo``."""

from __future__ import annotations

from typing import Any

import uvicorn
from fastapi import FastAPI

from wijzer import logs

# The largest request line plus headers the server reads (then the app's own limits apply).
SERVER_HEAD_BYTES = 2 * 1024 * 1024


def server_options() -> dict[str, Any]:
    """How the wijzer runs uvicorn (also used by the tests that start a real server)."""
    return {
        "log_level": "info",
        # Logging is set up by logs.configure (JSON lines); the server's access log
        # would write query strings, so the app's own access log replaces it.
        "log_config": None,
        "access_log": False,
        "http": "h11",
        # h11 refuses a request head over 16 KiB with a plain English 400 before the
        # app sees it; with room up to SERVER_HEAD_BYTES the app answers 414 in Dutch.
        "h11_max_incomplete_event_size": SERVER_HEAD_BYTES,
    }


def run(app: FastAPI, host: str, port: int) -> None:
    logs.configure()
    uvicorn.run(app, host=host, port=port, **server_options())
