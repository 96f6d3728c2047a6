"""Command line: demo data, import, export, template and migrations.

python -m providers demo --region JZ31 --seed 1 --out DIR
python -m providers demo --national --children 100000 --offerings 10000 --out DIR
python -m providers import DIR_OR_FILES... [--database-url URL]
python -m providers export --out FILE_OR_DIR --format xlsx|csv|json
python -m providers template --out sjabloon.xlsx
python -m providers retention --months 24
python -m providers db upgrade
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from providers import demo, reference
from providers.errors import ImportRejected
from providers.io import data_files, export_tables, write_template


def _date(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def cmd_demo(a: argparse.Namespace) -> int:
    if a.national:
        data = demo.generate_national(a.children or 100_000, a.offerings, seed=a.seed, today=a.date)
    else:
        data = demo.generate_region(a.region, seed=a.seed, n_children=a.children, today=a.date)
    out = Path(a.out)
    target = out if a.format == "csv" else out / f"demo.{a.format}"
    if a.format != "csv":
        out.mkdir(parents=True, exist_ok=True)
    files = export_tables(data, a.format, target, dialect=a.dialect)
    for t, rows in data.items():
        print(f"{t:12s} {len(rows):7d}")
    for f in files:
        print(f"geschreven: {f}")
    return 0


def _sessions(url: str | None):  # type: ignore[no-untyped-def]
    from providers.store import make_engine, migrate, session_factory

    engine = make_engine(url)
    migrate(engine)
    return session_factory(engine)


def cmd_import(a: argparse.Namespace) -> int:
    from providers.store import Principal, import_files

    sessions = _sessions(a.database_url)
    paths = data_files(a.paths)
    try:
        summary = import_files(sessions, Principal.system(a.actor), paths, year=a.year)
    except ImportRejected as exc:
        print(f"Niet ingelezen: {len(exc.problems)} probleem/problemen.", file=sys.stderr)
        for p in exc.problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    for t in summary.inserted:
        print(f"{t:12s} nieuw {summary.inserted[t]:7d}  bijgewerkt {summary.updated.get(t, 0):7d}")
    print(f"importbatch {summary.batch_id}")
    return 0


def cmd_export(a: argparse.Namespace) -> int:
    from providers.store import Principal, load_records

    sessions = _sessions(a.database_url)
    with sessions() as s, s.begin():
        data = load_records(s, Principal.system(a.actor), tuple(a.tables), region_code=a.region)
    files = export_tables(data, a.format, Path(a.out), dialect=a.dialect)
    for f in files:
        print(f"geschreven: {f}")
    return 0


def cmd_template(a: argparse.Namespace) -> int:
    write_template(Path(a.out), year=a.year)
    print(f"geschreven: {a.out}")
    return 0


def cmd_db(a: argparse.Namespace) -> int:
    from providers.store import current_revision, make_engine, migrate

    engine = make_engine(a.database_url)
    migrate(engine)
    print(f"database op versie {current_revision(engine)}")
    return 0


def cmd_retention(a: argparse.Namespace) -> int:
    from providers.store import Principal, purge_case_data
    from providers.store.sessions import SESSION_KEEP_DAYS, purge_sessions

    today = a.date or dt.date.today()
    sessions = _sessions(a.database_url)
    with sessions() as s, s.begin():
        who = Principal.system(a.actor)
        n = purge_case_data(s, who, months=a.months, today=today)
        ended = purge_sessions(s, who, now=dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC))
    print(
        f"{n} kinderen verwijderd (geplaatst of afgesloten, ouder dan {a.months} maanden); "
        "de aantallen zijn bewaard"
    )
    print(
        f"{ended} sessies verwijderd (afgelopen of verlopen, ouder dan {SESSION_KEEP_DAYS} dagen)"
    )
    return 0


def cmd_uitvraag(a: argparse.Namespace) -> int:
    from providers.store import Principal
    from providers.store.uitvraag import take_snapshot

    sessions = _sessions(a.database_url)
    with sessions() as s, s.begin():
        info = take_snapshot(
            s,
            Principal.system(a.actor),
            count_date=a.date or dt.date.today(),
            region_code=a.region,
        )
    print(
        f"momentopname {info.region_code} op {info.count_date.isoformat()}: "
        f"{info.waiting} wachtende kinderen, {info.exits} vertrokken sinds de vorige"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m providers", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="cmd", required=True)

    d = sub.add_parser("demo", help="seeded demo data in the import format")
    d.add_argument("--region", default="JZ31")
    d.add_argument("--seed", type=int, default=1)
    d.add_argument("--children", type=int)
    d.add_argument("--offerings", type=int, default=10_000)
    d.add_argument("--national", action="store_true")
    d.add_argument("--date", type=_date, default=None, help="reference date (default today)")
    d.add_argument("--format", choices=("csv", "xlsx", "json"), default="csv")
    d.add_argument("--dialect", choices=("utf8", "excel-nl"), default="utf8")
    d.add_argument("--out", required=True)
    d.set_defaults(func=cmd_demo)

    i = sub.add_parser("import", help="import files all-or-nothing")
    i.add_argument("paths", nargs="+")
    i.add_argument("--database-url")
    i.add_argument("--actor", default="import-cli")
    i.add_argument("--year", type=int, default=reference.DEFAULT_YEAR)
    i.set_defaults(func=cmd_import)

    e = sub.add_parser("export", help="export stored data")
    e.add_argument("--out", required=True)
    e.add_argument("--format", choices=("csv", "xlsx", "json"), default="xlsx")
    e.add_argument("--dialect", choices=("utf8", "excel-nl"), default="utf8")
    e.add_argument(
        "--tables",
        nargs="+",
        default=["aanbieders", "aanbod", "contracten", "budgetten", "kinderen"],
    )
    e.add_argument("--region")
    e.add_argument("--database-url")
    e.add_argument("--actor", default="export-cli")
    e.set_defaults(func=cmd_export)

    t = sub.add_parser("template", help="write the XLSX template")
    t.add_argument("--out", required=True)
    t.add_argument("--year", type=int, default=reference.DEFAULT_YEAR)
    t.set_defaults(func=cmd_template)

    r = sub.add_parser("retention", help="remove old case rows (keep counts) and old web sessions")
    r.add_argument(
        "--months", type=int, default=int(os.environ.get("WIJZER_RETENTION_MONTHS", "24"))
    )
    r.add_argument("--date", type=_date, default=None)
    r.add_argument("--database-url")
    r.add_argument("--actor", default="bewaartermijn")
    r.set_defaults(func=cmd_retention)

    u = sub.add_parser("uitvraag", help="store this month's momentopname of the waiting list")
    u.add_argument("--region", help="jeugdregio code; without it all regions together")
    u.add_argument("--date", type=_date, default=None, help="count date (default today)")
    u.add_argument("--database-url")
    u.add_argument("--actor", default="uitvraag")
    u.set_defaults(func=cmd_uitvraag)

    b = sub.add_parser("db", help="database migrations")
    b.add_argument("action", choices=("upgrade",))
    b.add_argument("--database-url")
    b.set_defaults(func=cmd_db)

    a = parser.parse_args(argv)
    return int(a.func(a))
