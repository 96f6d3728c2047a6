"""Files -> database -> scenario -> matching result, and the conversion rules."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from matcher.domain import CareType, ChildAttribute, Expertise, MeasureType, Policy
from matcher.domain.match import match
from matcher.solution import SolveOptions, verify
from providers.convert import ConversionError, releases, scenario_from_db, to_scenario
from providers.store import OrganisationKind, Principal, Role, create_organisation, import_files
from providers.store.models import AuditEntry

from .conftest import TODAY

SYSTEM = Principal.system("test")
OPTIONS = SolveOptions(time_limit_s=20, relative_gap=0.0, seed=1)


def test_releases_from_rate_and_wait() -> None:
    ev = dt.date(2025, 6, 2)
    assert releases(0.0, 2, 30, ev, 52) == ()
    one = releases(0.0, 0, 30, ev, 52)
    assert [(r.on, r.places) for r in one] == [(ev + dt.timedelta(days=30), 1)]
    half = releases(0.5, 1, 0, ev, 10)
    assert [r.places for r in half] == [1] * len(half)
    assert (half[1].on - half[0].on).days == 14  # one place every two weeks
    assert sum(r.places for r in releases(2.0, 0, 60, ev, 10)) == 22
    assert releases(2.0, 0, 60, ev, 10)[0].on == ev + dt.timedelta(days=60)


def test_fields_are_mapped(demo_dir: Path) -> None:
    from providers.io import read_tables
    from providers.validate import validate

    tables, problems = read_tables(demo_dir)
    v = validate(tables, problems, today=TODAY)
    sc = to_scenario(v.records, evaluation_date=TODAY, region_code="JZ31")
    kids = {k["kind_ref"]: k for k in v.records["kinderen"]}
    assert len(sc.children) == 60
    for c in sc.children:
        k = kids[c.ref]
        assert c.region == "JZ31"
        assert c.ruling_date == k["uitspraakdatum"]
        assert [n.care_type.value for n in c.needs] == [
            x for x in (k["zorgvorm"], k["zorgvorm_2"]) if x
        ]
        assert all(n.id.startswith(c.ref + "/") for n in c.needs)
        assert c.birth_month is not None
        assert f"{c.birth_month:%Y-%m}" == k["geboortemaand"]
        assert isinstance(c.measure, MeasureType)
        if "LVB" in k["kenmerken"]:
            assert ChildAttribute.LVB in c.attributes
    offs = {o["aanbod_id"]: o for o in v.records["aanbod"]}
    assert {o.id for o in sc.offerings} == set(offs)
    for o in sc.offerings:
        assert (Expertise.LVB in o.expertise) == offs[o.id]["lvb_expertise"]
        assert o.free_now == offs[o.id]["plaatsen_vrij"]
    # perceel budgets are scoped to the provider and its AMBULANT perceel
    assert all(b.perceel == "AMBULANT" and b.provider for b in sc.budgets)
    ambulant = [o for o in sc.offerings if o.care_type.category.value == "AMBULANT" and o.perceel]
    assert ambulant
    assert all(o.effective_perceel == "AMBULANT" for o in ambulant)
    for b in sc.bundles:
        assert len(b.members) >= 2
        cts = {sc.child_by_ref[r].need(n).care_type for r, n in b.members}
        assert len(cts) == 1


def test_unknown_product_codes_are_a_clear_error() -> None:
    records = {
        "aanbod": [
            {
                "aanbod_id": "O1",
                "aanbieder_id": "A1",
                "zorgvorm": "ZHZ_KAMERTRAINING",
                "gemeente": "GM0505",
                "plaatsen_vrij": 1,
            }
        ]
    }
    with pytest.raises(ConversionError, match="ZHZ_KAMERTRAINING"):
        to_scenario(records, evaluation_date=TODAY)


def _check_result(result, scenario) -> None:  # type: ignore[no-untyped-def]
    verify(result.compiled.problem, result.solution)
    per_offering = Counter(p.offering for p in result.placements.values())
    capacity = {
        o.id: o.free_now
        + sum(
            r.places
            for r in o.releases
            if r.on <= TODAY + dt.timedelta(weeks=scenario.policy.horizon_weeks)
        )
        for o in scenario.offerings
    }
    for oid, n in per_offering.items():
        assert n <= capacity[oid]
    eligible = {
        (pc.child_ref, pc.need_id, pc.offering_id)
        for pcs in result.compiled.eligibility.pairs.values()
        for pc in pcs
        if pc.eligible
    }
    for (ref, nid), p in result.placements.items():
        assert (ref, nid, p.offering) in eligible


def test_end_to_end_files_database_scenario_match(
    sessions: sessionmaker[Session], demo_dir: Path
) -> None:
    import_files(sessions, SYSTEM, demo_dir, today=TODAY)
    with sessions() as s, s.begin():
        tafel_org = create_organisation(s, "Tafel ZHZ", OrganisationKind.REGIO, region_code="JZ31")
        tafel = Principal("tafel-zhz", Role.TAFEL, tafel_org.id, region_code="JZ31")
    with sessions() as s, s.begin():
        sc = scenario_from_db(s, tafel, evaluation_date=TODAY, policy=Policy(allow_late=True))
    assert len(sc.children) == 60
    result = match(sc, OPTIONS)
    _check_result(result, sc)
    summary = result.summary()
    assert summary["needs"] == sum(len(c.needs) for c in sc.children)
    assert summary["placed"] > 0
    assert summary["unplaced"] > 0  # the demo is scarce on purpose
    assert summary["solver_status"] in {"OPTIMAL", "FEASIBLE"}
    # the scenario built from files directly gives the same result
    from providers.io import read_tables
    from providers.validate import validate

    tables, problems = read_tables(demo_dir)
    direct = to_scenario(
        validate(tables, problems, today=TODAY).records,
        evaluation_date=TODAY,
        region_code="JZ31",
        policy=Policy(allow_late=True),
    )
    assert match(direct, OPTIONS).summary()["placed"] == summary["placed"]
    with sessions() as s:
        reads = list(s.scalars(select(AuditEntry).where(AuditEntry.actor == "tafel-zhz")))
    assert [(e.action, e.detail, e.record_count) for e in reads] == [("lezen", "matching", 60)]


KIND_HEADER = (
    "kind_ref,gemeente,geboortemaand,gi,maatregel,uitspraakdatum,gi_in_kennis_datum,urgente_deadline,"
    "zorgvorm,zorgvorm_2,zorgvorm_3,kenmerken,gezin_ref,huidig_aanbod_id\n"
)


def test_t1_zedenverleden_blocks_every_small_scale_place(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """DOMAIN T1 through the whole chain: three contracted kleinschalige places that all
    declare zedenverleden; child A (zedenverleden) stays unplaced, child B takes a place."""
    (tmp_path / "aanbieders.csv").write_text(
        "aanbieder_id,naam,regio\n"
        + "".join(f"{k},Kleinschalig {k},JZ29\n" for k in ("K1", "K2", "K3")),
        encoding="utf-8",
    )
    rows = "".join(
        f"O-{k},{k},KLEINSCHALIGE_WOONVOORZIENING,GM0599,1,0,12,18,nee,ZEDENVERLEDEN,nee,60000,14,0,,planning,2025-06-01\n"
        for k in ("K1", "K2", "K3")
    )
    (tmp_path / "aanbod.csv").write_text(
        "aanbod_id,aanbieder_id,zorgvorm,gemeente,plaatsen_vrij,vrijkomend_per_week,leeftijd_min,leeftijd_max,"
        "lvb_expertise,contra_indicaties,opnamestop,prijs_per_plaatsing,intake_dagen,verwachte_wachttijd_dagen,"
        "werkgebied,bevestigd_door,bevestigd_op\n" + rows,
        encoding="utf-8",
    )
    (tmp_path / "contracten.csv").write_text(
        "contract_id,aanbieder_id,regio,zorgvorm,geldig_van,geldig_tot\n"
        + "".join(
            f"C-{k},{k},JZ29,KLEINSCHALIGE_WOONVOORZIENING,2025-01-01,2025-12-31\n"
            for k in ("K1", "K2", "K3")
        ),
        encoding="utf-8",
    )
    (tmp_path / "kinderen.csv").write_text(
        KIND_HEADER
        + "K-A1,GM0599,2011-03,JBRR,OTS_MACHTIGING_UHP,2025-04-01,,,"
        + "KLEINSCHALIGE_WOONVOORZIENING,,,ZEDENVERLEDEN,,\n"
        + "K-B2,GM0599,2010-07,JBRR,OTS_MACHTIGING_UHP,2025-04-01,,,"
        + "KLEINSCHALIGE_WOONVOORZIENING,,,,,\n",
        encoding="utf-8",
    )
    import_files(sessions, SYSTEM, tmp_path, today=TODAY)
    with sessions() as s, s.begin():
        sc = scenario_from_db(s, SYSTEM, evaluation_date=TODAY, region_code="JZ29")
    result = match(sc, OPTIONS)
    _check_result(result, sc)
    assert ("K-A1", "K-A1/1") in result.unplaced
    assert (
        result.placements[("K-B2", "K-B2/1")].care_type
        == CareType.KLEINSCHALIGE_WOONVOORZIENING.value
    )
    reasons = {
        pc.offering_id: pc.reason.value if pc.reason else None
        for pc in result.compiled.eligibility.pairs[("K-A1", "K-A1/1")]
    }
    assert reasons == {
        "O-K1": "CONTRA_INDICATION",
        "O-K2": "CONTRA_INDICATION",
        "O-K3": "CONTRA_INDICATION",
    }
