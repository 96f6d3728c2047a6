"""Bounded loopback load test of the wijzer: search and matching jobs at once.

    .venv/bin/python benchmarks/load.py [--users 20] [--job-users 2] [--seconds 20]
        [--children 120] [--run-size 40] [--max-requests 20000] [--seed 1]

Builds a fresh SQLite database in a temporary folder through the real demo path
(the data layer's generator for Zuid-Holland Zuid and the importer), adds one
account per role with a known password, starts `python -m wijzer serve` in its
own process on a free port of 127.0.0.1 (never another interface), and runs
`--users` concurrent logged-in clients (asyncio + httpx) for `--seconds` after
a warm-up:

- search users (all but `--job-users`): the verwijzer search page (HTML) and the
  JSON search, with seeded random care type, age and gemeente;
- job users: a table starts a matching run of `--run-size` waiting children,
  polls the run page until the run is done (as the page's refresh does), then
  starts the next one.

It stops by itself: after `--seconds`, or after `--max-requests`, or at a hard
limit of `--seconds` + 120 s, then stops the server. Prints one table per
operation: requests, requests/s, p50/p95/p99 latency in ms and errors (any
status other than the expected one, or a transport error). Client and server
share the machine, so the figures are for the whole loop on one box.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
PASSWORD = "load-test wachtwoord 1"
TODAY = dt.date(2026, 11, 20)
E2E = "(eind tot eind)"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def build_database(path: Path, children: int) -> tuple[list[str], list[str]]:
    """Demo region through the importer; returns the children's refs and the care types
    on offer."""
    from sqlalchemy import select

    from providers import demo
    from providers.io import export_tables
    from providers.store import access, accounts
    from providers.store.engine import make_engine, migrate, session_factory
    from providers.store.importer import import_files
    from providers.store.models import Child, Offering, OrganisationKind, Role

    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    sessions = session_factory(engine)
    data = demo.generate_region("JZ31", seed=1, n_children=children, today=TODAY)
    with tempfile.TemporaryDirectory() as tmp:
        files = export_tables(data, "csv", Path(tmp))
        import_files(sessions, access.Principal.system("load"), files, today=TODAY)
    with sessions.begin() as s:
        gi = accounts.create_organisation(s, "Load GI", OrganisationKind.GI, region_code="JZ31")
        accounts.create_account(s, "load-verwijzer", PASSWORD, Role.VERWIJZER, gi)
        table = accounts.create_organisation(
            s, "Load tafel", OrganisationKind.REGIO, region_code="JZ31"
        )
        accounts.create_account(s, "load-tafel", PASSWORD, Role.TAFEL, table)
        refs = list(s.scalars(select(Child.ref).where(Child.region_code == "JZ31")))
        care = sorted(set(s.scalars(select(Offering.care_type))))
    engine.dispose()
    return refs, care


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    first_error: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    elapsed: float = 0.0

    def add(self, op: str, seconds: float, ok: bool) -> None:
        self.requests += 1
        self.latencies.setdefault(op, []).append(seconds)
        if not ok:
            self.errors[op] = self.errors.get(op, 0) + 1


async def login(client: httpx.AsyncClient, username: str) -> str:
    page = await client.get("/inloggen")
    token = CSRF_RE.search(page.text)
    assert token, "no csrf token on the login page"
    r = await client.post(
        "/inloggen",
        data={"gebruikersnaam": username, "wachtwoord": PASSWORD, "csrf_token": token.group(1)},
    )
    assert r.status_code == 303, f"login failed: {r.status_code}"
    home = await client.get("/")
    found = CSRF_RE.search(home.text)
    assert found
    return found.group(1)


async def timed(
    stats: Stats | None, op: str, call: asyncio.Future[httpx.Response] | object, expect: int
) -> httpx.Response | None:
    t0 = time.perf_counter()
    try:
        response: httpx.Response = await call  # type: ignore[misc]
    except httpx.HTTPError:
        if stats is not None:
            stats.add(op, time.perf_counter() - t0, False)
        return None
    if stats is not None:
        ok = response.status_code == expect
        stats.add(op, time.perf_counter() - t0, ok)
        if not ok:
            stats.first_error.setdefault(op, f"{response.status_code} {response.text[:200]!r}")
    return response


class Run:
    def __init__(
        self, args: argparse.Namespace, base: str, refs: list[str], care: list[str]
    ) -> None:
        self.args = args
        self.base = base
        self.refs = refs
        self.care = care
        self.stats: Stats | None = None  # None during warm-up
        self.stop_at = 0.0

    def running(self) -> bool:
        stats_full = self.stats is not None and self.stats.requests >= self.args.max_requests
        return time.monotonic() < self.stop_at and not stats_full

    async def search_user(self, c: httpx.AsyncClient, rng: random.Random) -> None:
        from providers import reference

        gemeenten = [g for g, info in reference.gemeenten().items() if info.region_code == "JZ31"]
        while self.running():
            params = {
                "zorgvorm": rng.choice(self.care),
                "leeftijd": str(rng.randint(0, 17)),
                "gemeente": rng.choice(gemeenten),
                "ook_niet_passend": "true",
            }
            if rng.random() < 0.5:
                await timed(self.stats, "zoeken (HTML)", c.get("/zoeken", params=params), 200)
            else:
                await timed(self.stats, "zoeken (API)", c.get("/api/v1/zoeken", params=params), 200)

    async def job_user(self, c: httpx.AsyncClient, rng: random.Random, token: str) -> None:
        while self.running():
            refs = rng.sample(self.refs, min(self.args.run_size, len(self.refs)))
            t0 = time.perf_counter()
            r = await timed(
                self.stats,
                "matching starten",
                c.post("/tafel/runs", data={"kind": refs, "csrf_token": token}),
                303,
            )
            if r is None or r.status_code != 303:
                await asyncio.sleep(0.2)
                continue
            url = r.headers["location"]
            while self.running():
                page = await timed(self.stats, "matching volgen", c.get(url), 200)
                if page is not None and ("Rekentijd" in page.text or "mislukt" in page.text):
                    if self.stats is not None:
                        ok = "Rekentijd" in page.text
                        self.stats.add(
                            "matching klaar (eind tot eind)", time.perf_counter() - t0, ok
                        )
                    break
                await asyncio.sleep(0.25)

    async def session(self, seconds: float, warmup: float) -> Stats:
        """Log every user in once, warm up, then measure; clients live across both."""
        n_jobs = min(self.args.job_users, self.args.users)
        clients = [
            httpx.AsyncClient(base_url=self.base, timeout=60) for _ in range(self.args.users)
        ]
        try:
            names = ["load-verwijzer"] * (self.args.users - n_jobs) + ["load-tafel"] * n_jobs
            tokens = await asyncio.gather(
                *(login(c, u) for c, u in zip(clients, names, strict=True))
            )
            rngs = [random.Random(self.args.seed * 1000 + i) for i in range(self.args.users)]
            stats = Stats()
            for length, target in ((warmup, None), (seconds, stats)):
                self.stats = target
                self.stop_at = time.monotonic() + length
                tasks = [
                    self.job_user(c, rngs[i], tokens[i])
                    if names[i] == "load-tafel"
                    else self.search_user(c, rngs[i])
                    for i, c in enumerate(clients)
                ]
                started = time.monotonic()
                await asyncio.wait_for(asyncio.gather(*tasks), timeout=length + 120)
                stats.elapsed = time.monotonic() - started
            return stats
        finally:
            for c in clients:
                await c.aclose()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k] * 1000


def report(stats: Stats, seconds: float, args: argparse.Namespace) -> None:
    print(
        f"\nwijzer load test, {args.users} users ({args.job_users} matching), {seconds:.1f} s "
        f"measured, {HOST}, seed {args.seed}, {len(os.sched_getaffinity(0))} cores"
    )
    head = (
        f"{'operation':<32} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'errors':>6}"
    )
    print(head)
    print("-" * len(head))
    total_err = 0
    for op in sorted(stats.latencies):
        lat = stats.latencies[op]
        err = stats.errors.get(op, 0)
        total_err += err
        print(
            f"{op:<32} {len(lat):>8} {len(lat) / seconds:>7.1f} {pct(lat, 50):>8.1f} "
            f"{pct(lat, 95):>8.1f} {pct(lat, 99):>8.1f} {err:>6}"
        )
    # The end-to-end time of a run is not a request of its own.
    all_lat = [x for op, v in stats.latencies.items() if E2E not in op for x in v]
    print(
        f"{'all requests':<32} {len(all_lat):>8} {len(all_lat) / seconds:>7.1f} "
        f"{pct(all_lat, 50):>8.1f} {pct(all_lat, 95):>8.1f} {pct(all_lat, 99):>8.1f} {total_err:>6}"
    )
    for op, sample in sorted(stats.first_error.items()):
        print(f"first error of {op}: {sample}")
    if all_lat:
        print(f"mean latency {statistics.mean(all_lat) * 1000:.1f} ms; errors total {total_err}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--job-users", type=int, default=2)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--warmup", type=float, default=3)
    p.add_argument("--children", type=int, default=120)
    p.add_argument("--run-size", type=int, default=40)
    p.add_argument("--max-requests", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    if not 1 <= args.users <= 200 or not 1 <= args.seconds <= 300:
        p.error("keep the test bounded: 1-200 users, 1-300 seconds")

    with tempfile.TemporaryDirectory(prefix="wijzer-load-") as tmp:
        db = Path(tmp) / "load.sqlite3"
        t0 = time.perf_counter()
        refs, care = build_database(db, args.children)
        print(f"database ready in {time.perf_counter() - t0:.1f} s ({len(refs)} children)")
        port = free_port()
        env = {
            **os.environ,
            "WIJZER_DATABASE_URL": f"sqlite:///{db}",
            "WIJZER_SECRET_KEY": "load-test-" + "k" * 40,
            "WIJZER_TODAY": TODAY.isoformat(),
            "WIJZER_LOGIN_MAX_FAILURES": "1000",
            "PYTHONPATH": str(ROOT),
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "wijzer", "serve", "--host", HOST, "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        base = f"http://{HOST}:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(base + "/inloggen", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start")
                time.sleep(0.2)
            run = Run(args, base, refs, care)
            stats = asyncio.run(run.session(args.seconds, args.warmup))
            report(stats, stats.elapsed, args)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
