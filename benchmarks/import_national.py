"""Benchmark: import a national file (100k children, 10k offerings) into a fresh database.

    .venv/bin/python benchmarks/import_national.py [--children 100000] [--offerings 10000]
        [--format csv|xlsx] [--database-url URL] [--seed 1]

The files are generated first (not timed); then a separate process reads,
validates and writes them in one transaction (all-or-nothing, as in the app)
and reports wall time per phase and its peak resident memory (ru_maxrss), so
the generator's memory does not count.  Without --database-url a fresh SQLite
file in a temporary folder is used; with a PostgreSQL URL a fresh schema is
created and dropped afterwards.  Prints one table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_import(files: Path, url: str, schema: str | None) -> dict[str, float]:
    from providers.io import read_tables
    from providers.store import Principal, make_engine, migrate, session_factory
    from providers.store.importer import known_keys, write_validated
    from providers.validate import validate

    engine = make_engine(url, schema=schema)
    migrate(engine)
    sessions = session_factory(engine)
    t0 = time.perf_counter()
    tables, problems = read_tables(files)
    t1 = time.perf_counter()
    with sessions() as s, s.begin():
        v = validate(tables, problems, known_keys=known_keys(s))
        t2 = time.perf_counter()
        summary = write_validated(s, Principal.system("benchmark"), v, files=str(files))
        t3 = time.perf_counter()
    t4 = time.perf_counter()  # after commit
    engine.dispose()
    return {
        "read_s": t1 - t0,
        "validate_s": t2 - t1,
        "write_s": t3 - t2,
        "commit_s": t4 - t3,
        "total_s": t4 - t0,
        "rows": float(summary.total()),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--children", type=int, default=100_000)
    ap.add_argument("--offerings", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    ap.add_argument("--database-url")
    ap.add_argument("--_child", nargs=3, metavar=("FILES", "URL", "SCHEMA"), help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a._child:
        files, url, schema = a._child
        print(json.dumps(run_import(Path(files), url, schema or None)))
        return

    from providers import demo
    from providers.io import export_tables

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        g0 = time.perf_counter()
        today = dt.date(2025, 6, 2)
        data = demo.generate_national(a.children, a.offerings, seed=a.seed, today=today)
        files = tmpdir / "files"
        if a.format == "csv":
            export_tables(data, "csv", files)
        else:
            files.mkdir()
            export_tables(data, "xlsx", files / "landelijk.xlsx")
        gen_s = time.perf_counter() - g0
        size_mb = sum(f.stat().st_size for f in files.iterdir()) / 1e6
        counts = {t: len(r) for t, r in data.items()}
        del data

        schema = ""
        url = a.database_url or f"sqlite:///{tmpdir / 'bench.db'}"
        admin = None
        if url.startswith("postgresql"):
            from sqlalchemy import create_engine, text

            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(url, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            out = subprocess.run(
                [sys.executable, __file__, "--_child", str(files), url, schema],
                check=True,
                capture_output=True,
                text=True,
                env=dict(os.environ, PYTHONPATH=str(ROOT)),
            )
        finally:
            if admin is not None:
                from sqlalchemy import text

                with admin.connect() as c:
                    c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        r = json.loads(out.stdout.strip().splitlines()[-1])

    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(f"national import benchmark ({backend}, {a.format}, seed {a.seed})")
    print(f"generated files: {size_mb:.1f} MB in {gen_s:.1f} s (not part of the import)")
    print("| table | rows |")
    print("|---|---:|")
    for t, n in counts.items():
        print(f"| {t} | {n} |")
    print()
    print("| phase | seconds |")
    print("|---|---:|")
    for k in ("read_s", "validate_s", "write_s", "commit_s", "total_s"):
        print(f"| {k[:-2]} | {r[k]:.1f} |")
    print(f"| peak RSS of the import process (MB) | {r['peak_rss_mb']:.0f} |")
    ok = r["total_s"] < 60 and r["peak_rss_mb"] < 2048
    print(f"target < 60 s and < 2 GB: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
