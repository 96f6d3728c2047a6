"""The library's errors: one base class.

As in `providers.errors` and `services.errors`, every error keeps two messages:
`user_message`, B1 Dutch for the person at the screen, and `str(exc)`, for the
developer and the log.  Errors that come from input a person wrote (a scenario
file, a change, forecast or planning input) set a Dutch `user_message`; the
others (a failed verification, an infeasible core) are for developers only and
fall back to a general Dutch sentence.
"""

from __future__ import annotations


class MatcherError(Exception):
    """Base of the library's errors."""

    default_user_message = "De berekening kon niet worden uitgevoerd."

    def __init__(self, message: str = "", *, user_message: str | None = None) -> None:
        self.user_message = user_message or self.default_user_message
        super().__init__(message or self.user_message)
