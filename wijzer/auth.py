"""Accounts as the web app sees them, password checks, login rate limit and role checks.

Where accounts are stored is not decided here: the app talks to an
``AccountDirectory``. Role and organisation scoping of the data itself happens
in the data layer; the role check here only decides who may open a page.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from providers.store import accounts
from providers.store.access import Principal
from providers.store.accounts import hash_password, verify_dummy, verify_password
from providers.store.models import Role as Role
from providers.store.sessions import session_account, session_user
from wijzer.errors import WijzerError

SESSION_USER_KEY = "user"
SESSION_LOGIN_AT_KEY = "login_at"
# The server-side session token (providers.store.sessions); without a live one the
# signed cookie alone signs nobody in, so logout really ends a session.
SESSION_ID_KEY = "sid"


ROLE_LABELS: dict[Role, str] = {
    Role.VERWIJZER: "Verwijzer",
    Role.AANBIEDER: "Aanbieder",
    Role.TAFEL: "Zorgbemiddelingstafel",
    Role.INKOOP: "Inkoop",
    Role.BEHEER: "Beheer",
}


@dataclass(frozen=True)
class SessionUser(Principal):
    """The signed-in account: the data layer's `Principal` (who, which role, for which
    organisation and region), plus what the pages show of it."""

    organisation_name: str | None = None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


class AccountDirectory(Protocol):
    """Where the app finds accounts. Implementations must not leak whether a user exists."""

    def authenticate(self, username: str, password: str) -> SessionUser | None: ...

    def get(self, username: str) -> SessionUser | None: ...

    def for_session(
        self, sessions: sessionmaker[Session], token: str, username: str
    ) -> SessionUser | None:
        """The account of the live session `token` when it is `username`'s, else None."""
        ...


@dataclass
class MemoryAccountDirectory:
    """Accounts held in memory with argon2 hashes; for tests and as a fallback store."""

    _accounts: dict[str, tuple[str, SessionUser]] = field(default_factory=dict)

    def add(self, principal: SessionUser, password: str) -> None:
        self._accounts[principal.username.lower()] = (hash_password(password), principal)

    def authenticate(self, username: str, password: str) -> SessionUser | None:
        entry = self._accounts.get(username.lower())
        if entry is None:
            verify_dummy(password)
            return None
        password_hash, principal = entry
        return principal if verify_password(password_hash, password) else None

    def get(self, username: str) -> SessionUser | None:
        entry = self._accounts.get(username.lower())
        return entry[1] if entry else None

    def for_session(
        self, sessions: sessionmaker[Session], token: str, username: str
    ) -> SessionUser | None:
        with sessions() as session:
            live = session_user(session, token)
        return self.get(username) if live == username else None


class DatabaseAccountDirectory:
    """Accounts in the provider data store (argon2 hashes, active flag, organisation)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @staticmethod
    def _user(found: tuple[Principal, str | None] | None) -> SessionUser | None:
        if found is None:
            return None
        p, organisation_name = found
        return SessionUser(
            username=p.username,
            role=p.role,
            organisation_id=p.organisation_id,
            region_code=p.region_code,
            provider_id=p.provider_id,
            gi_code=p.gi_code,
            organisation_name=organisation_name,
        )

    def authenticate(self, username: str, password: str) -> SessionUser | None:
        with self._sessions.begin() as session:
            found = accounts.authenticate(session, username, password)
            if found is None:
                return None
            return self._user(accounts.active_account(session, found.username))

    def get(self, username: str) -> SessionUser | None:
        with self._sessions() as session:
            return self._user(accounts.active_account(session, username))

    def for_session(
        self, sessions: sessionmaker[Session], token: str, username: str
    ) -> SessionUser | None:
        # one read for the session and its account: this runs on every request
        with sessions() as session:
            found = session_account(session, token)
        if found is None or found[0].username != username:
            return None
        return self._user(found)


class LoginRateLimiter:
    """Counts failed logins per username and per client address in a sliding window.

    Held on ``app.state`` (one per app), not at module level. With several
    server processes each keeps its own count; the limit then holds per process.
    """

    def __init__(
        self, max_failures: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        stamps = self._failures.setdefault(key, deque())
        while stamps and now - stamps[0] >= self.window_s:
            stamps.popleft()
        return stamps

    def retry_after(self, keys: Iterable[str]) -> int:
        """Seconds until a new attempt is allowed; 0 when allowed now."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                stamps = self._recent(key, now)
                if len(stamps) >= self.max_failures:
                    wait = max(wait, self.window_s - (now - stamps[0]))
        return int(wait) + (1 if wait > int(wait) else 0)

    def record_failure(self, keys: Iterable[str]) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


def limiter_keys(username: str, client_host: str | None) -> list[str]:
    return [f"user:{username.strip().lower()}", f"ip:{client_host or 'unknown'}"]


class NotAuthenticatedError(WijzerError):
    """No valid session: HTML goes to the login page, the API answers 401."""

    default_user_message = "Log eerst in."


class NotAllowedError(WijzerError):
    """Logged in, but this role may not use this page or endpoint."""

    default_user_message = "U mag deze pagina niet gebruiken."


def current_user(request: Request) -> SessionUser | None:
    username = request.session.get(SESSION_USER_KEY)
    token = request.session.get(SESSION_ID_KEY)
    if not isinstance(username, str) or not isinstance(token, str):
        return None
    # Asked several times per request (role check, page); look it up once.
    key = (username, token)
    cached = getattr(request.state, "current_user", None)
    if cached is not None and cached[0] == key:
        return cached[1]  # type: ignore[no-any-return]
    directory: AccountDirectory = request.app.state.accounts
    # Looked up on every request so a removed account or changed role counts at once.
    user = directory.for_session(request.app.state.sessions, token, username)
    request.state.current_user = (key, user)
    return user


OptionalUser = Annotated[SessionUser | None, Depends(current_user)]


def require_roles(*roles: Role) -> Callable[[Request], SessionUser]:
    """A dependency that lets only the given roles through."""
    allowed = frozenset(roles)

    def dependency(request: Request) -> SessionUser:
        user = current_user(request)
        if user is None:
            raise NotAuthenticatedError
        if user.role not in allowed:
            raise NotAllowedError
        request.state.user = user
        return user

    dependency.allowed_roles = allowed  # type: ignore[attr-defined]
    return dependency
