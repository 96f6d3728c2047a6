"""The web app's errors: one base class.

These errors steer a request (to the login page, to a Dutch refusal page); the
handlers in `wijzer.app` turn each into a page or an API error with a B1 Dutch
`user_message`, never `str(exc)`.
"""

from __future__ import annotations


class WijzerError(Exception):
    """Base of the web app's errors."""

    default_user_message = "Er ging iets mis. Probeer het opnieuw."

    def __init__(self, message: str = "", *, user_message: str | None = None) -> None:
        self.user_message = user_message or self.default_user_message
        super().__init__(message or self.user_message)
