"""`python -m wijzer serve --workers N`: N processes on one port, each with its own
listening socket, so new connections are spread over all of them, a process holding
more than its share hands connections over, and a session made on one process holds
on the others."""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from providers.store import accounts
from providers.store.engine import make_engine, migrate, session_factory
from providers.store.models import OrganisationKind, Role
from wijzer import cli, server

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "een lang wachtwoord voor de test"
# A process may still be starting when its first request arrives (on a busy machine).
TIMEOUT_S = 60.0

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc to see which process holds what"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command may hold spaces or brackets; the fields after the last ")" do not.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


# States in /proc/net/tcp: an established connection, a listening socket.
ESTABLISHED, LISTENING = "01", "0A"


def _port_inodes(port: int, state: str) -> set[str]:
    """Inodes of the sockets on local `port` in `state` (for connections: the server
    ends)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == state:
                inodes.add(fields[9])
    return inodes


def _held(kids: list[int], port: int, total: int) -> dict[int, int]:
    """Per server process, the connections on `port` it holds, once all `total` are
    held (a process may still be starting; it accepts what waits at its socket then)."""
    deadline = time.monotonic() + 60
    while True:
        established = _port_inodes(port, ESTABLISHED)
        held = {pid: len(_sockets_of(pid) & established) for pid in kids}
        if sum(held.values()) == total or time.monotonic() > deadline:
            return held
        time.sleep(0.2)


def _sockets_of(pid: int) -> set[str]:
    out = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        match = re.fullmatch(r"socket:\[(\d+)\]", target)
        if match:
            out.add(match.group(1))
    return out


def _serve(tmp_path: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    url = f"sqlite:///{tmp_path / 'wijzer.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    with session_factory(engine).begin() as s:
        org = accounts.create_organisation(s, "Test GI", OrganisationKind.GI, gi_code="TGI")
        accounts.create_account(s, "verwijzer", PASSWORD, Role.VERWIJZER, org)
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if k != server.COOKIE_SIGNING_VARIABLE}
    env.update(WIJZER_DATABASE_URL=url, WIJZER_OVERDUE_CHECK_MINUTES="0")
    cmd = [sys.executable, "-m", "wijzer", "serve", "--port", str(port), "--workers", str(workers)]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def _wait_listening(proc: subprocess.Popen[bytes], port: int, workers: int) -> list[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server stopped while starting"
        kids = _children(proc.pid)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
        except OSError:
            time.sleep(0.2)
            continue
        # Every server process listens once it is up (multiprocessing's resource
        # tracker is a child too, and does not).
        servers = [pid for pid in kids if _listens(pid, port)]
        if len(servers) == workers:
            return servers
        time.sleep(0.2)
    raise AssertionError("the server processes did not start within 60 s")


def _listens(pid: int, port: int) -> bool:
    return bool(_port_inodes(port, LISTENING) & _sockets_of(pid))


def _login(base: str) -> httpx.Cookies:
    with httpx.Client(base_url=base, timeout=TIMEOUT_S) as client:
        page = client.get("/inloggen")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        r = client.post(
            "/inloggen",
            data={"gebruikersnaam": "verwijzer", "wachtwoord": PASSWORD, "csrf_token": token[1]},
        )
        assert r.status_code == 303, r.text
        return client.cookies


def test_two_processes_share_the_connections_and_the_sessions(tmp_path: Path) -> None:
    port = _free_port()
    proc = _serve(tmp_path, port, 2)
    clients: list[httpx.Client] = []
    kids: list[int] = []
    try:
        kids = _wait_listening(proc, port, 2)
        assert len(kids) == 2
        base = f"http://127.0.0.1:{port}"
        cookies = _login(base)
        clients = [
            httpx.Client(base_url=base, cookies=cookies, timeout=TIMEOUT_S) for _ in range(40)
        ]
        # 40 connections, kept open and used in turn. A process that holds two more than
        # the other closes one after its answer ("Connection: close") and the client
        # connects again; once a round passes without a close, the connections are
        # shared evenly (the kernel alone gives 20/20 in one run of eight).
        closes_per_round: list[int] = []
        for _ in range(20):
            closes = 0
            for client in clients:
                r = client.get("/zoeken")
                # Logged in on every process: the cookie's key is shared (no secret was set).
                assert r.status_code == 200, r.status_code
                assert "Zoeken" in r.text
                closes += r.headers.get("connection") == "close"
            closes_per_round.append(closes)
            if not closes:
                break
        assert closes_per_round[-1] == 0, closes_per_round
        held = _held(kids, port, 40)
        assert held == {kids[0]: 20, kids[1]: 20}, (held, closes_per_round)
    finally:
        for client in clients:
            client.close()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    assert code == 0
    # A stop signal to the first process stops the server processes too.
    assert kids
    assert not any(Path(f"/proc/{pid}").exists() for pid in kids)


def test_the_first_connections_are_spread_too(tmp_path: Path) -> None:
    """Every socket listens before any process starts: connections made the moment
    the port opens (a restart under load) do not all go to the process that is up
    first."""
    port = _free_port()
    proc = _serve(tmp_path, port, 2)
    opened: list[socket.socket] = []
    kids: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while not opened:
            assert proc.poll() is None, "the server stopped while starting"
            assert time.monotonic() < deadline, "the port did not open within 60 s"
            try:
                opened.append(socket.create_connection(("127.0.0.1", port), timeout=1))
            except OSError:
                time.sleep(0.01)
        opened += [socket.create_connection(("127.0.0.1", port)) for _ in range(39)]
        kids = _wait_listening(proc, port, 2)
        held = _held(kids, port, 40)
        assert sum(held.values()) == 40, held
        assert all(n > 0 for n in held.values()), held
    finally:
        for sock in opened:
            sock.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = _serve(tmp_path, port, 2)
        proc.wait(timeout=60)
    assert proc.returncode == 1


def test_a_system_without_a_shared_port_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delattr(socket, "SO_REUSEPORT")
    assert server.run_workers("127.0.0.1", _free_port(), 2) == 1
    assert "Start de wijzer zonder --workers" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-1", "abc", str(server.MAX_WORKERS + 1)])
def test_workers_outside_the_range_are_refused(value: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="kies een heel getal"):
        cli._workers(value)


def test_workers_inside_the_range_are_kept() -> None:
    assert cli._workers("2") == 2
    assert cli._workers(str(server.MAX_WORKERS)) == server.MAX_WORKERS
