"""Names, not codes, on the demo region: ceilings, providers and gemeenten are named
by the converter, so a tafel run, an inkoop scenario and its form never show a budget
id ("B000001") or a GM code where a person reads."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session, sessionmaker

from matcher.domain import ChangeCeiling
from matcher.domain.explain import change_text
from matcher.domain.helps import SmallestChange
from providers import reference
from providers.convert import budget_name, scenario_from_db
from providers.store import access
from providers.store.purchase import BudgetRow
from services import matching as uc
from services import what_if as wi
from wijzer.views.inkoop_scenario import empty_form

from .conftest import REGION, TODAY, principal

CODE_RE = re.compile(r"\bB\d{6}\b|\bGM\d{4}\b")


def _noop(_step: str, _percent: int) -> None:
    return None


def test_the_converter_names_every_ceiling_offering_and_gemeente(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as db:
        sc = scenario_from_db(
            db, access.Principal.system("test"), evaluation_date=TODAY, region_code=REGION
        )
    assert sc.budgets, "the demo region has ceilings"
    for b in sc.budgets:
        assert b.name.startswith("Plafond ")
        assert b.name.endswith(str(TODAY.year))
        assert not CODE_RE.search(b.name), b.name
    assert all(o.provider_name for o in sc.offerings)
    own = next(r for r in sc.regions if r.code == REGION)
    assert len(own.gemeente_names) == len(own.gemeenten)
    assert sc.gemeente_name["GM0505"] == "Dordrecht"


def test_a_ceiling_is_named_by_scope_and_year() -> None:
    def row(level: str, **kw: str) -> BudgetRow:
        return BudgetRow(
            ext_id="B000001",
            level=level,
            region="JZ31",
            provider=kw.get("provider"),
            gemeente=kw.get("gemeente"),
            perceel=kw.get("perceel"),
            care_types=(),
            ceiling_cents=1,
            spent_cents=0,
        )

    names = {"P1": "Zorg B.V."}
    region = reference.jeugdregios()["JZ31"].name
    assert budget_name(row("perceel", provider="P1", perceel="AMBULANT"), 2027, names) == (
        "Plafond Zorg B.V., ambulante hulp 2027"
    )
    assert budget_name(row("aanbieder", provider="P1"), 2027, names) == "Plafond Zorg B.V. 2027"
    assert budget_name(row("gemeente", gemeente="GM0505"), 2027, names) == (
        "Plafond Dordrecht 2027"
    )
    assert budget_name(row("regio"), 2027, names) == f"Plafond regio {region} 2027"
    assert budget_name(row("perceel", provider="P1", perceel="jeugd-GGZ"), 2027, names) == (
        "Plafond Zorg B.V., jeugd-GGZ 2027"
    )


def test_a_ceiling_change_reads_by_name(sessions: sessionmaker[Session]) -> None:
    with sessions() as db:
        sc = scenario_from_db(
            db, access.Principal.system("test"), evaluation_date=TODAY, region_code=REGION
        )
    b = sc.budgets[0]
    o = sc.offerings[0]
    change = SmallestChange(
        deltas=(ChangeCeiling(b.id, 500_000),), placed_at=o.id, within_norm=True, tried=1
    )
    names = {o.id: o.display_name, b.id: b.display_name}
    text = change_text(change, lambda k: names.get(k, k))
    assert b.name in text
    assert b.id not in text


@pytest.fixture(scope="module")
def run(sessions: sessionmaker[Session]) -> uc.RunOutcome:
    with sessions.begin() as db:
        user = principal(db, f"tafel-{REGION}")
        refs = [c.ref for c in access.waiting_list(db, user)][:80]
    return uc.run_matching(
        sessions, user, uc.RunParams(refs=refs), today=TODAY, progress=_noop, explain_budget_s=2
    )


def test_the_tafel_run_shows_no_budget_id_or_gemeente_code(run: uc.RunOutcome) -> None:
    texts = [
        t
        for r in run.rows
        for t in (
            r.provider or "",
            r.location or "",
            r.summary_text,
            r.smallest_change or "",
            *r.sentences,
            *r.forbidden_names,
        )
    ]
    assert any(r.sentences for r in run.rows), "the run has unplaced children to explain"
    found = sorted({m.group(0) for t in texts for m in CODE_RE.finditer(t)})
    assert not found, found


def test_the_inkoop_scenario_names_its_ceilings(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as db:
        user = principal(db, f"inkoop-{REGION}")
        opts = wi.scenario_options(db, user, today=TODAY)
        assert opts.budgets
        (bid, _left) = opts.budgets[0]
        form = empty_form(opts)
        assert all(c.name.startswith("Plafond ") for c in form.ceilings)
        assert not any(CODE_RE.search(c.name) for c in form.ceilings)
        out = wi.run_scenario(
            db, user, wi.ScenarioRequest(ceiling_lifts=(wi.CeilingLift(bid, 100_000),)), today=TODAY
        )
    assert out.applied == (f"{opts.budget_names[bid]} € 1.000 hoger",)
    assert not any(CODE_RE.search(line) for line in out.applied)
