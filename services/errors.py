"""The application layer's errors.

As in `providers.errors`, each error keeps the B1 Dutch message for the person at
the screen (`user_message`) apart from the message for the developer and the log
(`str(exc)`).

The data layer's refusals the web layer catches are re-exported here, so a route
never imports the data layer itself. They keep their own class (and base,
`providers.errors.ProvidersError`): an `except` on a name from here catches exactly
what the data layer raises.
"""

from __future__ import annotations

from collections.abc import Mapping

from providers.errors import ImportRejected as ImportRejected
from providers.errors import Problem as Problem
from providers.store.access import AccessDenied as AccessDenied
from providers.store.access import ConflictError as ConflictError
from providers.store.access import NotFound as NotFound
from providers.store.accounts import AccountError as AccountError
from providers.store.referrals import DuplicateCase as DuplicateCase
from providers.store.referrals import StatusConflict as StatusConflict
from providers.store.upload_preview import PreviewOutdated as PreviewOutdated


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
