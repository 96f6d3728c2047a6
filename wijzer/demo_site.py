"""``python -m wijzer demo``: a local wijzer with demo data and one account per role.

The data comes from the data layer's demo generator (two jeugdregio's in one
deployment, fictional providers, pseudonymous children) and goes in through the
same importer as a region's own files. The first region's accounts are named
after their role (`tafel`), the second region's get `-2` (`tafel-2`); beheer is
national. Every run gives each demo account a new random password.
"""

from __future__ import annotations

import datetime as dt
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from providers import demo as demo_data
from providers import demo_referrals, reference
from providers.io import export_tables
from providers.store import access, accounts
from providers.store.models import Account, Offering, Organisation, OrganisationKind, Provider
from services.imports import ImportRequest, run_import
from wijzer import server
from wijzer.app import create_app
from wijzer.auth import ROLE_LABELS, Role
from wijzer.deps import engine_for, prepare, sessions_for
from wijzer.settings import Settings

DEMO_REGION = "JZ31"  # Zuid-Holland Zuid
DEMO_REGION_2 = "JZ24"  # Haaglanden: a second region that must not see the first
DEMO_SEED = 1
# More than the regions' real lists (about 25 and 35), so every page has something to show.
DEMO_CHILDREN = {DEMO_REGION: 120, DEMO_REGION_2: 60}
REGIONAL_ROLES = (Role.VERWIJZER, Role.AANBIEDER, Role.TAFEL, Role.INKOOP)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    password: str
    organisation: str
    region: str | None = None  # None: beheer, for all regions


def sqlite_path(database_url: str) -> Path | None:
    prefix = "sqlite:///"
    if database_url.startswith(prefix):
        return Path(database_url[len(prefix) :])
    return None


def load_demo_data(sessions: sessionmaker[Session], today: dt.date, out: TextIO) -> None:
    """Generate the two demo regions and import them, unless the database already has
    offerings."""
    with sessions() as session:
        present = session.scalar(select(func.count()).select_from(Offering)) or 0
    if present:
        print(f"Demodata staat al in de database ({present} aanbiedingen).", file=out)
        return
    records = demo_data.generate_regions(
        (DEMO_REGION, DEMO_REGION_2), seed=DEMO_SEED, n_children=DEMO_CHILDREN, today=today
    )
    with tempfile.TemporaryDirectory(prefix="wijzer-demo-") as tmp:
        files = export_tables(records, "csv", Path(tmp))
        summary = run_import(
            sessions,
            access.Principal.system("demo"),
            ImportRequest(paths=tuple(files), today=today),
        )
    counts = ", ".join(f"{n} {t}" for t, n in sorted(summary.inserted.items()))
    print(f"Demodata ingelezen: {counts}.", file=out)


def username_of(role: Role, region: str | None) -> str:
    return role.value if region in (None, DEMO_REGION) else f"{role.value}-2"


def _organisation(session: Session, role: Role, region: str) -> Organisation:
    if role is Role.AANBIEDER:
        provider = session.scalars(
            select(Provider).where(Provider.region_code == region).order_by(Provider.ext_id)
        ).first()
        if provider is None:
            raise RuntimeError("the demo data has no provider in the demo region")
        existing = session.scalars(
            select(Organisation).where(Organisation.provider_id == provider.id)
        ).first()
        return existing or accounts.create_organisation(
            session, provider.name, OrganisationKind.AANBIEDER, provider_id=provider.id
        )
    kind, name = {
        Role.VERWIJZER: (OrganisationKind.GI, "Demo gecertificeerde instelling"),
        Role.TAFEL: (OrganisationKind.REGIO, "Demo zorgbemiddelingstafel"),
        Role.INKOOP: (OrganisationKind.REGIO, "Demo inkoopteam"),
        Role.BEHEER: (OrganisationKind.BEHEER, "Demo beheer"),
    }[role]
    if region != DEMO_REGION:
        name = f"{name} {reference.jeugdregios()[region].name}"
    existing = session.scalars(select(Organisation).where(Organisation.name == name)).first()
    return existing or accounts.create_organisation(
        session, name, kind, region_code=None if role is Role.BEHEER else region
    )


def seed_accounts(sessions: sessionmaker[Session]) -> list[DemoAccount]:
    """One account per role in the first region, named after the role, and one per
    regional role in the second (`tafel-2`), each with a fresh password."""
    wanted = [(role, DEMO_REGION) for role in Role]
    wanted += [(role, DEMO_REGION_2) for role in REGIONAL_ROLES]
    seeded: list[DemoAccount] = []
    with sessions.begin() as session:
        for role, region in wanted:
            org = _organisation(session, role, region)
            password = secrets.token_urlsafe(9)
            name = username_of(role, region)
            account = session.scalar(select(Account).where(Account.username == name))
            if account is None:
                accounts.create_account(session, name, password, role, org)
            else:
                account.password_hash = accounts.hash_password(password)
                account.active = True
                account.failed_logins = 0
            shown_region = None if role is Role.BEHEER else region
            seeded.append(DemoAccount(name, role, password, org.name, shown_region))
    return seeded


def prepare_demo(settings: Settings, *, out: TextIO) -> list[DemoAccount]:
    """The demo database: migrated, both regions imported, accounts with new passwords
    and a referral history for each region."""
    path = sqlite_path(settings.database_url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = engine_for(settings)
    prepare(engine)
    sessions = sessions_for(engine)
    print("Beschikbaarheidswijzer (demo)", file=out)
    print(f"Database: {settings.database_url}", file=out)
    load_demo_data(sessions, settings.current_date(), out)
    accounts = seed_accounts(sessions)
    for region in (DEMO_REGION, DEMO_REGION_2):
        with sessions.begin() as session:
            gi = _organisation(session, Role.VERWIJZER, region).id
            h = demo_referrals.generate_history(
                session, region, today=settings.current_date(), organisation_id=gi
            )
        print(
            f"Verwijsgeschiedenis {region}: {h.aanmeldingen} aanmeldingen, {h.starts} starts.",
            file=out,
        )
    engine.dispose()
    return accounts


def run_demo(settings: Settings, host: str, port: int, *, out: TextIO) -> int:
    accounts = prepare_demo(settings, out=out)
    print("", file=out)
    print("Demo-accounts (de wachtwoorden gelden tot de volgende start):", file=out)
    width = max(len(a.username) for a in accounts)
    regions = reference.jeugdregios()
    for a in accounts:
        where = f"regio {regions[a.region].name}" if a.region else "alle regio's"
        print(
            f"  {a.username:<{width}}  {a.password}  {ROLE_LABELS[a.role]}, {a.organisation}"
            f" ({where})",
            file=out,
        )
    print("", file=out)
    print(f"Open http://{host}:{port}/ in uw browser. Stoppen: Ctrl+C.", file=out, flush=True)
    server.run(create_app(settings), host, port)
    return 0
