"""``python -m wijzer demo``: a local wijzer with demo data and one account per role."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import uvicorn

from wijzer.app import create_app
from wijzer.auth import MemoryAccountDirectory, Principal, Role
from wijzer.settings import Settings


@dataclass(frozen=True)
class DemoAccount:
    principal: Principal
    password: str


def demo_accounts() -> list[DemoAccount]:
    """One account per role, each with a fresh random password for this run."""
    organisations: dict[Role, tuple[str | None, str | None]] = {
        Role.VERWIJZER: ("GI-DEMO", "Demo gecertificeerde instelling"),
        Role.AANBIEDER: (None, None),
        Role.TAFEL: ("TAFEL-DEMO", "Demo zorgbemiddelingstafel"),
        Role.INKOOP: ("INKOOP-DEMO", "Demo inkoopteam"),
        Role.BEHEER: (None, None),
    }
    accounts = []
    for role in Role:
        org_id, org_name = organisations[role]
        principal = Principal(
            username=role.value, role=role, organisation_id=org_id, organisation_name=org_name
        )
        accounts.append(DemoAccount(principal, secrets.token_urlsafe(9)))
    return accounts


def sqlite_path(database_url: str) -> Path | None:
    prefix = "sqlite:///"
    if database_url.startswith(prefix):
        return Path(database_url[len(prefix) :])
    return None


def run_demo(settings: Settings, host: str, port: int, *, out: TextIO) -> int:
    path = sqlite_path(settings.database_url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    directory = MemoryAccountDirectory()
    accounts = demo_accounts()
    for account in accounts:
        directory.add(account.principal, account.password)
    print("Beschikbaarheidswijzer (demo)", file=out)
    print(f"Database: {settings.database_url}", file=out)
    print("", file=out)
    print("Demo-accounts (wachtwoorden gelden alleen voor deze keer starten):", file=out)
    width = max(len(a.principal.username) for a in accounts)
    for account in accounts:
        p = account.principal
        print(f"  {p.username:<{width}}  {account.password}  ({p.role_label})", file=out)
    print("", file=out)
    print(f"Open http://{host}:{port}/ in uw browser. Stoppen: Ctrl+C.", file=out, flush=True)
    uvicorn.run(create_app(settings, accounts=directory), host=host, port=port, log_level="info")
    return 0
