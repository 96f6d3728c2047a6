"""The application layer's errors.

As in `providers.errors`, each error keeps the B1 Dutch message for the person at
the screen (`user_message`) apart from the message for the developer and the log
(`str(exc)`).
"""

from __future__ import annotations

from collections.abc import Mapping


class ServiceError(Exception):
    """Base of the application layer's errors."""

    default_user_message = "Er ging iets mis. Probeer het opnieuw."

    def __init__(self, message: str = "", *, user_message: str | None = None) -> None:
        self.user_message = user_message or message or self.default_user_message
        super().__init__(message or self.user_message)


class InvalidRequest(ServiceError, ValueError):
    """The request asks for something that does not exist or cannot be done; `issues`
    maps a form field to a B1 Dutch message."""

    def __init__(self, issues: Mapping[str, str]) -> None:
        self.issues = dict(issues)
        text = "; ".join(self.issues.values())
        super().__init__(f"invalid request: {', '.join(sorted(self.issues))}", user_message=text)
