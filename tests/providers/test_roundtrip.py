"""Export -> import is the identity: the formula neutralisation of the export is
reversed by the import, exactly and only that, in every format and on every backend."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from providers.errors import ImportRejected
from providers.io import export_tables, is_neutralised, read_bytes, safe_cell, unneutralise
from providers.store import Principal, import_files
from providers.store.dump import load_records
from providers.validate import validate

SYSTEM = Principal.system("roundtrip-test")
FORMATS = ("csv", "xlsx", "json")
EXAMPLES = ["+cmd|' /C calc'!A0", "=1+1", "-2", "@x", "'=x", "''", "'abc", "\t=x", "a'b"]
# Refusals that have nothing to do with quoting: a value that looks like a person's
# name, a BSN or an address, or that is empty once trimmed.
UNRELATED = {"NAAM", "BSN", "ADRES", "VERPLICHT", "TE_LANG"}
_ids = itertools.count(1)


def _provider(ref: str, name: str) -> dict[str, Any]:
    return {
        "aanbieder_id": ref,
        "naam": name,
        "regio": "JZ31",
        "hoofdaannemer": False,
        "accepteert_onderaannemers": (),
    }


def _stored(sessions: sessionmaker[Session]) -> list[dict[str, Any]]:
    with sessions() as s, s.begin():
        return list(load_records(s, SYSTEM, ("aanbieders",))["aanbieders"])


def _write(records: list[dict[str, Any]], fmt: str, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder if fmt == "csv" else folder / f"export.{fmt}"
    return export_tables({"aanbieders": records}, fmt, target)


def round_trip(sessions: sessionmaker[Session], value: str, fmt: str, tmp: Path) -> None:
    """Store `value` as a provider name (through an exported file, as the export
    writes it), export everything, import the export: nothing may change."""
    ref = f"P-RT{next(_ids)}"
    first = tmp / f"{ref}-in"
    refused: ImportRejected | None = None
    try:
        import_files(sessions, SYSTEM, _write([_provider(ref, value)], fmt, first))
    except ImportRejected as exc:
        refused = exc
    if refused is not None:
        problems = refused.problems
        assert {p.code for p in problems} <= UNRELATED, (value, fmt, [str(p) for p in problems])
        assume(False)
    before = _stored(sessions)
    assert [r["naam"] for r in before if r["aanbieder_id"] == ref] == [value.strip()]
    files = _write(before, fmt, tmp / f"{ref}-out")
    import_files(sessions, SYSTEM, files)
    assert _stored(sessions) == before, (value, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("value", EXAMPLES)
def test_examples_survive_export_and_import(
    sessions: sessionmaker[Session], tmp_path: Path, value: str, fmt: str
) -> None:
    round_trip(sessions, value, fmt, tmp_path)


TEXT = st.one_of(
    st.sampled_from(EXAMPLES),
    st.text(alphabet=st.sampled_from(list("=+-@'\t |!()/,.;:\"aBz0")), min_size=1, max_size=24),
)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)
@given(value=TEXT, fmt=st.sampled_from(FORMATS))
def test_any_text_survives_export_and_import(
    sessions: sessionmaker[Session], tmp_path: Path, value: str, fmt: str
) -> None:
    round_trip(sessions, value, fmt, tmp_path)


@given(st.text(max_size=12))
def test_unneutralise_reverses_safe_cell_exactly(value: str) -> None:
    quoted = safe_cell(value)
    assert unneutralise(quoted) == value
    # Only what the export quoted is unquoted.
    assert is_neutralised(quoted) == (quoted != value)


def test_a_quoted_blank_is_still_blank_and_a_bare_formula_still_refused() -> None:
    header = "aanbieder_id,naam,regio,hoofdaannemer,accepteert_onderaannemers\n"
    for cell, code in (("'\t", "VERPLICHT"), ("=1+1", "FORMULE")):
        tables, problems = read_bytes("aanbieders.csv", f"{header}P-1,{cell},JZ31,nee,\n".encode())
        with pytest.raises(ImportRejected) as refused:
            validate(tables, problems)
        assert [(p.row, p.column, p.code) for p in refused.value.problems] == [(2, "naam", code)]
