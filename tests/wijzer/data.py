"""A small, hand-made data set in the real store: each offering tests one rule of the search.

Two regions share the deployment. Zuid-Holland Zuid (JZ31) buys traumatherapie;
its accounts are `test-<rol>`. Utrecht Stad (JZ22) has its own GI, provider,
tafel and inkoop team (`test-<rol>-2`), budget and five waiting children, so
the tests can check that no row or total of one region reaches the other.
Beheer is national. Today is fixed at TODAY.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from providers.store import accounts
from providers.store.models import (
    Budget,
    Child,
    ChildNeed,
    Contract,
    Offering,
    OrganisationKind,
    Provider,
    Role,
    SubcontractAcceptance,
)

TODAY = dt.date(2026, 11, 20)
PASSWORD = "correct paard batterij niet"
REGION = "JZ31"
REGION_2 = "JZ22"  # Utrecht Stad
DORDRECHT, ZWIJNDRECHT, UTRECHT = "GM0505", "GM0642", "GM0344"
CARE = "TRAUMATHERAPIE"
CARE_2 = "VIDEOHOMETRAINING"  # bought in region 2 only

# Per region: the refs of its children and the names and ids only that region's
# pages may show. Offerings and providers are left out: searching capacity
# across regions is allowed (it is not case data).
MARKERS: dict[str, tuple[str, ...]] = {
    REGION: ("K-001", "K-002", "K-003", "B-BUDGET", "Tafel ZHZ", "Inkoop ZHZ", "GI Test"),
    REGION_2: (
        "K-004",
        "K-021",
        "K-022",
        "K-023",
        "K-024",
        "B-UTRECHT",
        "Tafel Utrecht Stad",
        "Inkoop Utrecht Stad",
        "GI Utrecht",
    ),
}
# Waiting children per region (the region totals a page may show).
WAITING = {REGION: 3, REGION_2: 5}
# Roles with an account per region; beheer is national.
REGIONAL_ROLES = (Role.VERWIJZER, Role.AANBIEDER, Role.TAFEL, Role.INKOOP)


def username(role: Role, region: str = REGION) -> str:
    """The test account of `role` in `region` (beheer has one account for all)."""
    if region == REGION or role is Role.BEHEER:
        return f"test-{role.value}"
    return f"test-{role.value}-2"


def _at(days_ago: int) -> dt.datetime:
    return dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(9), tzinfo=dt.UTC)


def seed(session: Session) -> dict[str, int]:
    """Insert the data set; returns ids by name for the tests."""
    p = {
        key: Provider(ext_id=ext, name=name, region_code=region, is_main_contractor=main)
        for key, ext, name, region, main in [
            ("main", "P-HOOFD", "Hulp Zuid", REGION, True),
            ("sub", "P-SUB", "Kleine Praktijk", REGION, False),
            ("far", "P-VER", "Verre Zorg", "JZ22", False),
            ("stop", "P-STOP", "Opnamestop Zorg", REGION, False),
            ("budget", "P-BUDGET", "Budget Zorg", REGION, False),
            ("none", "P-GEEN", "Niet Ingekocht", REGION, False),
            ("dom", "P-DOM", "Domstad Jeugdhulp", REGION_2, True),
        ]
    }
    session.add_all(p.values())
    session.flush()

    def offering(key: str, provider: str, gemeente: str, region: str, **kw: object) -> Offering:
        values: dict[str, object] = {
            "care_type": CARE,
            "places_free": 1,
            "release_per_week": 0.0,
            "age_min": 0,
            "age_max": 18,
            "intake_days": 14,
            "expected_wait_days": 0,
            "price_cents": 300_000,
            "confirmed_by": "test",
            "confirmed_at": _at(3),
        }
        values.update(kw)
        return Offering(
            ext_id=key,
            provider_id=p[provider].id,
            gemeente_code=gemeente,
            region_code=region,
            **values,
        )

    offerings = {
        "snel": offering(
            "O-SNEL",
            "main",
            DORDRECHT,
            REGION,
            places_free=2,
            expected_wait_days=10,
            contra_indications="ZEDENVERLEDEN",
        ),
        "sub": offering(
            "O-SUB",
            "sub",
            ZWIJNDRECHT,
            REGION,
            places_free=0,
            release_per_week=0.5,
            expected_wait_days=60,
            confirmed_at=_at(40),
        ),
        "ver": offering("O-VER", "far", UTRECHT, "JZ22"),
        "stop": offering("O-STOP", "stop", DORDRECHT, REGION, intake_stop=True),
        "budget": offering("O-BUDGET", "budget", DORDRECHT, REGION),
        "oud": offering("O-OUD", "main", DORDRECHT, REGION, age_min=12, age_max=18),
        "geen": offering("O-GEEN", "none", DORDRECHT, REGION),
        # Region 2's own supply: another care type, so JZ31's searches stay as they were.
        "dom": offering(
            "O-DOM", "dom", UTRECHT, REGION_2, care_type=CARE_2, places_free=3, age_max=12
        ),
    }
    session.add_all(offerings.values())
    for key in ("main", "far", "stop", "budget"):
        session.add(
            Contract(
                ext_id=f"C-{key}",
                provider_id=p[key].id,
                region_code=REGION,
                care_type=CARE,
                valid_from=dt.date(2026, 1, 1),
                valid_until=dt.date(2027, 12, 31),
            )
        )
    for key, care in (("far", CARE), ("dom", CARE_2)):
        session.add(
            Contract(
                ext_id=f"C-{key}-2",
                provider_id=p[key].id,
                region_code=REGION_2,
                care_type=care,
                valid_from=dt.date(2026, 1, 1),
                valid_until=dt.date(2027, 12, 31),
            )
        )
    session.add(SubcontractAcceptance(main_provider_id=p["main"].id, sub_provider_id=p["sub"].id))
    session.add(
        Budget(
            ext_id="B-BUDGET",
            level="aanbieder",
            region_code=REGION,
            provider_id=p["budget"].id,
            ceiling_cents=1_000_000,
            spent_cents=900_000,
            confirmed_by="test",
            confirmed_at=_at(1),
        )
    )
    session.add(
        Budget(
            ext_id="B-UTRECHT",
            level="aanbieder",
            region_code=REGION_2,
            provider_id=p["dom"].id,
            ceiling_cents=2_000_000,
            spent_cents=500_000,
            confirmed_by="test",
            confirmed_at=_at(2),
        )
    )
    session.flush()

    # Waiting children (pseudonymous refs only). K-004 and K-021 to K-024 live in region 2.
    for ref, gemeente, region, born, ruling, attrs, care, gi in [
        ("K-001", DORDRECHT, REGION, "2017-03", dt.date(2026, 10, 1), "", CARE, "WSS"),
        (
            "K-002",
            ZWIJNDRECHT,
            REGION,
            "2016-05",
            dt.date(2026, 9, 1),
            "ZEDENVERLEDEN",
            CARE,
            "WSS",
        ),
        ("K-003", DORDRECHT, REGION, "2018-01", dt.date(2026, 11, 1), "", CARE, "WSS"),
        ("K-004", UTRECHT, REGION_2, "2015-07", dt.date(2026, 8, 1), "", CARE, "WSS"),
        ("K-021", UTRECHT, REGION_2, "2016-02", dt.date(2026, 9, 15), "", CARE, "LJR"),
        ("K-022", UTRECHT, REGION_2, "2019-06", dt.date(2026, 10, 20), "", CARE_2, "LJR"),
        ("K-023", UTRECHT, REGION_2, "2014-11", dt.date(2026, 7, 10), "LVB", CARE, "LJR"),
        ("K-024", UTRECHT, REGION_2, "2018-03", dt.date(2026, 11, 5), "", CARE_2, "LJR"),
    ]:
        session.add(
            Child(
                ref=ref,
                gemeente_code=gemeente,
                region_code=region,
                birth_month=born,
                gi=gi,
                measure="OTS",
                ruling_date=ruling,
                attributes=attrs,
                needs=[ChildNeed(seq=1, care_type=care)],
            )
        )
    session.flush()

    orgs = {
        Role.VERWIJZER: accounts.create_organisation(
            session, "GI Test", OrganisationKind.GI, region_code=REGION, gi_code="WSS"
        ),
        Role.AANBIEDER: accounts.create_organisation(
            session, "Hulp Zuid", OrganisationKind.AANBIEDER, provider_id=p["main"].id
        ),
        Role.TAFEL: accounts.create_organisation(
            session, "Tafel ZHZ", OrganisationKind.REGIO, region_code=REGION
        ),
        Role.INKOOP: accounts.create_organisation(
            session, "Inkoop ZHZ", OrganisationKind.REGIO, region_code=REGION
        ),
        Role.BEHEER: accounts.create_organisation(session, "Beheer", OrganisationKind.BEHEER),
    }
    for role, org in orgs.items():
        accounts.create_account(session, username(role), PASSWORD, role, org)
    other = accounts.create_organisation(
        session, "Budget Zorg", OrganisationKind.AANBIEDER, provider_id=p["budget"].id
    )
    accounts.create_account(session, "test-ander-aanbieder", PASSWORD, Role.AANBIEDER, other)
    orgs_2 = {
        Role.VERWIJZER: accounts.create_organisation(
            session, "GI Utrecht", OrganisationKind.GI, region_code=REGION_2, gi_code="LJR"
        ),
        Role.AANBIEDER: accounts.create_organisation(
            session, "Domstad Jeugdhulp", OrganisationKind.AANBIEDER, provider_id=p["dom"].id
        ),
        Role.TAFEL: accounts.create_organisation(
            session, "Tafel Utrecht Stad", OrganisationKind.REGIO, region_code=REGION_2
        ),
        Role.INKOOP: accounts.create_organisation(
            session, "Inkoop Utrecht Stad", OrganisationKind.REGIO, region_code=REGION_2
        ),
    }
    for role, org in orgs_2.items():
        accounts.create_account(session, username(role, REGION_2), PASSWORD, role, org)
    session.flush()
    ids = {f"offering:{k}": o.id for k, o in offerings.items()}
    ids.update({f"provider:{k}": v.id for k, v in p.items()})
    return ids
