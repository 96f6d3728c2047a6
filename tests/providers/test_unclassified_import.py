"""A need not classified yet through the whole chain: file (CSV, XLSX, JSON) ->
validation -> database (SQLite and PostgreSQL) -> scenario -> matching.  The child is
stored, converted with an `UnclassifiedNeed`, never matched and never dropped, and the
totals read placed + unplaced + unclassified = all children."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from matcher.domain.caretypes import UNCLASSIFIED_CODE, care_type_label
from matcher.domain.match import match
from providers import demo
from providers.convert import scenario_from_db, to_scenario
from providers.errors import ImportRejected
from providers.io import export_tables, read_tables
from providers.store import Principal, import_files
from providers.store.models import Child
from providers.validate import validate

from .conftest import TODAY

SYSTEM = Principal.system("test")


def _data() -> tuple[dict[str, list[dict[str, Any]]], str, str]:
    """Demo data with one child whose only need is unclassified and one with a
    classified and an unclassified need."""
    data = {
        t: list(rows)
        for t, rows in demo.generate_region("JZ31", seed=4, n_children=30, today=TODAY).items()
    }
    kids = data["kinderen"]
    only, both = dict(kids[0]), dict(kids[1])
    only.update(zorgvorm=UNCLASSIFIED_CODE, zorgvorm_2=None, zorgvorm_3=None, gezin_ref=None)
    only["huidig_aanbod_id"] = None
    both.update(zorgvorm_2=UNCLASSIFIED_CODE, zorgvorm_3=None)
    kids[0], kids[1] = only, both
    return data, only["kind_ref"], both["kind_ref"]


def _files(tmp_path: Path, fmt: str, data: dict[str, list[dict[str, Any]]]) -> Path:
    dest = tmp_path / ("csv" if fmt == "csv" else f"data.{fmt}")
    export_tables(data, fmt, dest)
    return dest


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_an_unclassified_need_is_read_from_every_file_type(tmp_path: Path, fmt: str) -> None:
    data, only, both = _data()
    tables, problems = read_tables(_files(tmp_path, fmt, data))
    v = validate(tables, problems, today=TODAY)
    rec = {k["kind_ref"]: k for k in v.records["kinderen"]}
    assert rec[only]["zorgvorm"] == UNCLASSIFIED_CODE
    assert rec[both]["zorgvorm_2"] == UNCLASSIFIED_CODE
    sc = to_scenario(v.records, evaluation_date=TODAY, region_code="JZ31")
    child = sc.child_by_ref[only]
    assert child.needs == ()
    assert [n.id for n in child.unclassified_needs] == [f"{only}/1"]
    assert [n.id for n in sc.child_by_ref[both].unclassified_needs] == [f"{both}/2"]
    assert len(sc.child_by_ref[both].needs) == 1


def test_the_code_may_be_written_as_words(tmp_path: Path) -> None:
    data, only, _ = _data()
    dest = _files(tmp_path, "csv", data)
    path = dest / "kinderen.csv"
    path.write_text(
        path.read_text(encoding="utf-8").replace(UNCLASSIFIED_CODE, "nog niet bepaald"),
        encoding="utf-8",
    )
    tables, problems = read_tables(dest)
    v = validate(tables, problems, today=TODAY)
    assert {k["kind_ref"]: k for k in v.records["kinderen"]}[only]["zorgvorm"] == UNCLASSIFIED_CODE


def test_an_offering_cannot_be_unclassified(tmp_path: Path) -> None:
    data, _, _ = _data()
    data["aanbod"][0] = {**data["aanbod"][0], "zorgvorm": UNCLASSIFIED_CODE}
    tables, problems = read_tables(_files(tmp_path, "csv", data))
    with pytest.raises(ImportRejected) as exc:
        validate(tables, problems, today=TODAY)
    (p,) = exc.value.problems
    assert (p.file, p.column, p.code) == ("aanbod.csv", "zorgvorm", "ONBEKENDE_CODE")


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_stored_converted_counted_never_matched(
    sessions: sessionmaker[Session], tmp_path: Path, fmt: str
) -> None:
    data, only, both = _data()
    import_files(sessions, SYSTEM, _files(tmp_path, fmt, data), today=TODAY)
    with sessions() as s:
        stored = s.scalar(select(Child).where(Child.ref == only))
        assert stored is not None
        assert [n.care_type for n in stored.needs] == [UNCLASSIFIED_CODE]
        sc = scenario_from_db(s, SYSTEM, evaluation_date=TODAY, region_code="JZ31")
    assert len(sc.children) == len(data["kinderen"])
    assert [n.id for n in sc.child_by_ref[only].unclassified_needs] == [f"{only}/1"]
    r = match(sc)
    matched = set(r.placements) | set(r.unplaced)
    assert not any(ref == only for ref, _ in matched)
    assert (both, f"{both}/2") not in matched
    s_ = r.summary()
    assert s_["unclassified"] == 2
    assert s_["needs"] == s_["placed"] + s_["unplaced"] + s_["unclassified"]
    assert s_["needs"] == sum(len(c.needs) + len(c.unclassified_needs) for c in sc.children)
    counts = r.child_counts()
    assert counts.total == len(data["kinderen"])
    assert (
        counts.placed + counts.unplaced + counts.unclassified + counts.not_waiting == counts.total
    )
    assert counts.unclassified >= 1


def test_the_label_of_the_code_is_dutch() -> None:
    assert care_type_label(UNCLASSIFIED_CODE) == "hulpvraag nog niet bepaald"
    assert care_type_label(UNCLASSIFIED_CODE, capital=True) == "Hulpvraag nog niet bepaald"
