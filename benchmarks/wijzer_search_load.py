"""Benchmark: the verwijzer search under load (loopback, bounded in time).

    .venv/bin/python benchmarks/wijzer_search_load.py [--offerings 5000] [--users 20]
        [--seconds 30] [--seed 1] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--workers 2] [--launch serve|uvicorn] [--client python|wrk]

Builds a fresh SQLite database in a temporary folder (or, with `--postgres ADMIN_URL`, a
fresh PostgreSQL database created through that server and dropped afterwards) with the
data layer's
national demo generator (`--offerings` offerings over all regions) through the
importer, adds one verwijzer account, starts the server (`python -m wijzer serve
--workers N` as deployed, or `--launch uvicorn`: uvicorn's own `--workers`, one socket
shared by the processes) on a free 127.0.0.1 port, then runs `--users` concurrent logged-in
clients (asyncio + httpx), each searching with seeded random care type, age and
gemeente for `--seconds` after a warm-up (`--warmup`, default 5 s). Set
WIJZER_SEARCH_WARM=1 in the environment to let each server process fill its search
cache (offerings and start forecasts) at start-up, as in production: the users search
from the start, but the measured part begins only when every server process has
logged that its cache is warm (and not before `--warmup`); the table gives when.
Every search is a full page (HTML) with the offerings that do not fit switched on.
Prints one table, with the server processes' processor time per request and that of
the load generator itself (the 20 users share the 2 cores with the server), and the
time a search spent in the server by its access log line (with `serve`; the rest of
the wait is the client's).
The client and the server share the machine.

`--client wrk`: the users of the measured part are 20 connections of `wrk` (Debian's
package; `python3 tasks.py bench-tools` installs it) instead of the Python users, with
the same kind of random searches and one signed-in session; the Python users still
search while the caches warm. wrk is written in C and takes far less processor time
per page than the Python users, so the server gets more of the 2 cores: the figures
are then closer to those of users on their own machines. The table names the client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "benchmark wachtwoord"
# The searches both clients make: care type and gemeente drawn from the database, and
# these (`user` in Python, WRK_SCRIPT in wrk's Lua).
AGES = (4, 17)
RULING = "2026-10-01"
REGIONS = ("binnen", "buiten")
# What each server process logs when its search cache is full (wijzer.app).
WARMED_LINE = "search cache warmed"
MAX_WARM_SECONDS = 900


def build_database(url: str, offerings: int, seed: int) -> tuple[list[str], list[str]]:
    import datetime as dt

    from providers import demo
    from providers.io import export_tables
    from providers.store import access, accounts
    from providers.store.engine import make_engine, migrate, session_factory
    from providers.store.importer import import_files
    from providers.store.models import OrganisationKind, Role

    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    data = demo.generate_national(
        n_children=1000, n_offerings=offerings, seed=seed, today=dt.date.today()
    )
    with tempfile.TemporaryDirectory() as tmp:
        files = export_tables(data, "csv", Path(tmp))
        import_files(sessions, access.Principal.system("benchmark"), files)
    with sessions.begin() as s:
        org = accounts.create_organisation(s, "Benchmark GI", OrganisationKind.GI, gi_code="WSS")
        accounts.create_account(s, "bench", PASSWORD, Role.VERWIJZER, org)
    engine.dispose()
    care_types = sorted({o["zorgvorm"] for o in data["aanbod"]})
    gemeenten = sorted({o["gemeente"] for o in data["aanbod"]})
    return care_types, gemeenten


@contextmanager
def _database(admin_url: str | None, folder: Path) -> Iterator[str]:
    """The URL of a fresh database: a SQLite file in `folder`, or a PostgreSQL database
    created through `admin_url` and dropped at the end."""
    if not admin_url:
        yield f"sqlite:///{folder / 'wijzer.sqlite3'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"wijzer_bench_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def user(
    base: str,
    seed: int,
    care_types: list[str],
    gemeenten: list[str],
    window: list[float],
    latencies: list[float],
    errors: list[str],
    think: tuple[float, float] = (0.0, 0.0),
) -> None:
    import httpx

    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        page = await client.get("/inloggen")
        r = await client.post("/inloggen", data=login_form(page.text))
        if r.status_code != 303:
            errors.append(f"login {r.status_code}")
            return
        # window: [start, end] of the measured part; moved on while the server warms up.
        while time.monotonic() < window[1]:
            params = {
                "zorgvorm": rng.choice(care_types),
                "leeftijd": str(rng.randint(*AGES)),
                "gemeente": rng.choice(gemeenten),
                "uitspraak": RULING,
                "regio": rng.choice(REGIONS),
                "ook_niet_passend": "1",
            }
            t0 = time.perf_counter()
            try:
                r = await client.get("/zoeken", params=params)
                ok = r.status_code == 200 and ("passen" in r.text or "aanbod past" in r.text)
            except httpx.HTTPError as exc:
                ok = False
                r = None
                errors.append(type(exc).__name__)
            elapsed = time.perf_counter() - t0
            if time.monotonic() >= window[0]:
                latencies.append(elapsed)
                if not ok and r is not None:
                    errors.append(str(r.status_code))
            if think[1] > 0:
                await asyncio.sleep(rng.uniform(*think))


def login_form(page: str) -> dict[str, str]:
    """The sign-in form of the benchmark's verwijzer, with the token of the page."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return {"gebruikersnaam": "bench", "wachtwoord": PASSWORD, "csrf_token": token}


def sign_in(base: str) -> str:
    """The Cookie header of one signed-in session of the benchmark's verwijzer."""
    import httpx

    with httpx.Client(base_url=base, timeout=30) as client:
        r = client.post("/inloggen", data=login_form(client.get("/inloggen").text))
        if r.status_code != 303:
            raise SystemExit(f"sign-in for wrk failed: {r.status_code}")
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


# The searches of `user`, drawn by wrk's LuaJIT; `done` prints one JSON line that
# run_wrk reads.
WRK_SCRIPT = """
local care_types = {%(care_types)s}
local gemeenten = {%(gemeenten)s}
local regio = {%(regions)s}
math.randomseed(%(seed)d)
request = function()
  local path = "/zoeken?zorgvorm=" .. care_types[math.random(#care_types)]
    .. "&leeftijd=" .. math.random(%(age_min)d, %(age_max)d)
    .. "&gemeente=" .. gemeenten[math.random(#gemeenten)]
    .. "&uitspraak=%(ruling)s&regio=" .. regio[math.random(#regio)] .. "&ook_niet_passend=1"
  return wrk.format("GET", path, {["Cookie"] = "%(cookie)s"})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "errors": %%d, "p50": %%d, "p95": %%d, "p99": %%d, "max": %%d}\\n',
    summary.requests, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def run_wrk(
    base: str, users: int, seconds: float, seed: int, care_types: list[str], gemeenten: list[str]
) -> tuple[dict[str, int], float]:
    """wrk's counts and percentiles (microseconds), and its processor seconds."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: python3 tasks.py bench-tools (Debian's wrk)")

    def lua_list(values: list[str] | tuple[str, ...]) -> str:
        return ", ".join(f'"{v}"' for v in values)

    script = WRK_SCRIPT % {
        "care_types": lua_list(care_types),
        "gemeenten": lua_list(gemeenten),
        "regions": lua_list(REGIONS),
        "age_min": AGES[0],
        "age_max": AGES[1],
        "ruling": RULING,
        "seed": seed,
        "cookie": sign_in(base),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as f:
        f.write(script)
        f.flush()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            [wrk, "-t1", f"-c{users}", f"-d{seconds:.0f}s", "--timeout", "30s", "-s", f.name, base],
            capture_output=True,
            text=True,
            check=True,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    line = next(x for x in done.stdout.splitlines() if x.startswith('{"requests"'))
    return json.loads(line), spent


def _server_cpu_seconds(parent: int) -> dict[int, float]:
    """Processor seconds used so far by each server process (Linux), by process id:
    shows whether the processes shared the work."""
    tick = os.sysconf("SC_CLK_TCK")
    found: list[tuple[int, float]] = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # fields[1] is the parent; utime and stime are fields 14 and 15 of stat.
        if entry.name.isdigit() and int(fields[1]) == parent:
            found.append((int(entry.name), (int(fields[11]) + int(fields[12])) / tick))
    # multiprocessing's resource tracker is a child too; it uses next to nothing.
    return {pid: c for pid, c in found if c >= 0.5}


def _server_times(log_path: Path, wall: list[float]) -> list[float]:
    """The milliseconds each search spent in the server (its access log line), for the
    searches that ended in the measured part: the rest of the wait is the client's."""
    import datetime as dt
    import json

    out: list[float] = []
    for line in log_path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        message = str(entry.get("message", ""))
        if entry.get("logger") != "wijzer.access" or not message.startswith("GET /zoeken "):
            continue
        at = dt.datetime.fromisoformat(entry["time"]).timestamp()
        if wall[0] <= at <= wall[1]:
            out.append(float(message.rsplit(" ", 1)[1].removesuffix("ms")))
    return out


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--offerings", type=int, default=5000)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(0.0, 0.0),
        metavar=("MIN", "MAX"),
        help="seconds each user waits between searches (uniform), like locust's wait_time",
    )
    # One uvicorn process per core is how the wijzer is deployed (see docs/wijzer.md).
    ap.add_argument("--workers", type=int, default=2, help="server processes")
    ap.add_argument("--postgres", metavar="ADMIN_URL", help="run on a fresh PostgreSQL database")
    ap.add_argument(
        "--client",
        choices=("python", "wrk"),
        default="python",
        help="who searches in the measured part: the Python users (asyncio + httpx) or wrk",
    )
    ap.add_argument(
        "--launch",
        choices=("serve", "uvicorn"),
        default="serve",
        help="serve: `python -m wijzer serve --workers N` (a socket per process); "
        "uvicorn: `uvicorn --workers N` (one socket shared by the processes)",
    )
    args = ap.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="wijzer-bench-") as tmp,
        _database(args.postgres, Path(tmp)) as url,
    ):
        t0 = time.perf_counter()
        care_types, gemeenten = build_database(url, args.offerings, args.seed)
        build_s = time.perf_counter() - t0
        port = free_port()
        env = dict(
            os.environ,
            WIJZER_DATABASE_URL=url,
            WIJZER_SECRET_KEY="benchmark-" + "k" * 40,
            WIJZER_LOGIN_MAX_FAILURES="1000",
        )
        if args.launch == "serve":
            # As deployed: one process per core, each on its own socket of the port.
            cmd = [sys.executable, "-m", "wijzer", "serve", "--host", "127.0.0.1"]
            cmd += ["--port", str(port), "--workers", str(args.workers)]
        else:
            cmd = [sys.executable, "-m", "uvicorn", "--factory", "wijzer.app:create_app"]
            cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
            cmd += ["--workers", str(args.workers)]
        # The server's log (JSON lines, one per request with `serve`) is written, as in
        # production, to a file that is shown only when the server does not start.
        log_path = Path(tmp) / "server.log"
        log_file = log_path.open("wb")
        server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log_file, stderr=log_file)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        log_file.flush()
                        print(log_path.read_text()[-4000:], file=sys.stderr)
                        raise
                    time.sleep(0.2)
            latencies: list[float] = []
            warm_seconds: list[float] = []
            cpu_before: dict[int, float] = {}
            # this process's processor time (the 20 users) at the start and end of the
            # measured part: it shares the 2 cores with the server
            client_cpu: list[float] = []
            errors: list[str] = []
            counts: dict[str, int] = {}
            wrk_cpu = 0.0
            start = time.monotonic()
            # Open-ended until wait_for_warm_caches knows when the measured part starts.
            window = [math.inf, math.inf]
            wall = [math.inf, math.inf]  # the same, in seconds since the epoch (the log's)
            warming = os.environ.get("WIJZER_SEARCH_WARM", "").lower() in ("1", "true", "yes")

            async def wait_for_warm_caches() -> None:
                """Measure only once every server process has warmed its search cache
                (its log line), so the figures are those of a server in its steady
                state rather than of one still filling its cache."""
                warmed, seen = 0, 0
                while warming:
                    with log_path.open("rb") as f:  # only what was written since the last look
                        f.seek(seen)
                        new = f.read()
                    # a line cut in two by the reading is read again, whole, next time
                    whole = new[: new.rfind(b"\n") + 1]
                    seen += len(whole)
                    warmed += whole.count(WARMED_LINE.encode())
                    if warmed >= args.workers:
                        break
                    if time.monotonic() > start + MAX_WARM_SECONDS:
                        raise SystemExit(f"search caches not warmed after {MAX_WARM_SECONDS} s")
                    await asyncio.sleep(0.5)
                ready = max(start + args.warmup, time.monotonic())
                window[:] = [ready, ready + args.seconds]
                if args.client == "wrk":  # the Python users stop where wrk starts
                    window[:] = [math.inf, ready]
                wall[:] = [time.time() + ready - time.monotonic(), 0.0]
                wall[1] = wall[0] + args.seconds
                warm_seconds.append(ready - start)
                await asyncio.sleep(max(0.0, ready - time.monotonic()))
                cpu_before.update(_server_cpu_seconds(server.pid))
                client_cpu.append(time.process_time())

            async def run_all() -> None:
                await asyncio.gather(
                    wait_for_warm_caches(),
                    *(
                        user(
                            base,
                            args.seed * 1000 + i,
                            care_types,
                            gemeenten,
                            window,
                            latencies,
                            errors,
                            tuple(args.think),
                        )
                        for i in range(args.users)
                    ),
                )

            asyncio.run(run_all())
            if args.client == "wrk":
                cpu_before.update(_server_cpu_seconds(server.pid))
                wall[0] = time.time()
                counts, wrk_cpu = run_wrk(
                    base, args.users, args.seconds, args.seed, care_types, gemeenten
                )
                wall[1] = time.time()
            cpu = _server_cpu_seconds(server.pid)
            client_cpu.append(time.process_time())
        finally:
            server.terminate()
            server.wait(timeout=10)
            log_file.close()
            server_ms = _server_times(log_path, wall)
    if args.client == "wrk":
        n = counts["requests"]
        p50, p95, p99, top = (counts[k] / 1000 for k in ("p50", "p95", "p99", "max"))
        n_errors = counts["errors"]
        client_s: float | None = wrk_cpu
    else:
        ms = [x * 1000 for x in latencies]
        if not ms:
            print("no measurements; errors:", sorted(set(errors)))
            return 1
        n = len(ms)
        p50, p95, p99, top = pct(ms, 50), pct(ms, 95), pct(ms, 99), max(ms)
        n_errors = len(errors)
        client_s = client_cpu[-1] - client_cpu[0] if len(client_cpu) == 2 else None
    if n == 0:
        print("no measurements")
        return 1
    backend = "PostgreSQL" if args.postgres else "SQLite"
    # The server processes' own processor time in the measured part, per request
    # (the client and the database not included).
    spent = sum(cpu[p] - cpu_before[p] for p in cpu if p in cpu_before)
    per_request = f"{spent * 1000 / n:.1f}" if cpu_before else "-"
    client = f"{client_s * 1000 / n:.1f}" if client_s is not None else "-"
    print(
        f"{backend} database built in {build_s:.1f} s ({args.offerings} offerings, 1000 children)"
    )
    in_server = f"{pct(server_ms, 50):.0f} / {pct(server_ms, 95):.0f}" if server_ms else "-"
    print(
        "| launch | client | users | think s | workers | seconds | requests | req/s | p50 ms "
        "| p95 ms | p99 ms | max ms | errors | server cpu s per process "
        "| server cpu ms per request | client cpu ms per request | in the server p50 / p95 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    think = f"{args.think[0]:g}-{args.think[1]:g}"
    print(
        f"| {args.launch} | {args.client} | {args.users} | {think} | {args.workers} | "
        f"{args.seconds:.0f} | {n} | {n / args.seconds:.1f} | "
        f"{p50:.1f} | {p95:.1f} | {p99:.1f} | {top:.1f} | "
        f"{n_errors} | {' / '.join(f'{c:.1f}' for c in sorted(cpu.values(), reverse=True))} | "
        f"{per_request} | {client} | {in_server} |"
    )
    if warm_seconds:
        print(f"measured from {warm_seconds[0]:.0f} s after the server started (caches warm)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
