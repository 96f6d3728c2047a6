#!/usr/bin/env python3
"""Project tasks that need nothing but Python 3.11+ on a fresh machine.

    python3 tasks.py demo   # install, then start the wijzer with demo data (SQLite)
    python3 tasks.py test   # install, then ruff, mypy, import rules and the full test suite
    python3 tasks.py bench-tools  # install, and Debian's wrk for benchmarks/wijzer_search_load.py

Installation goes into ./.venv; `pyproject.toml` lists every Python package.
System packages the browser tests need (Debian's chromium) are installed with
apt-get when the machine has it and we are root; otherwise those tests skip
with a visible reason.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".installed"
DEBIAN_PACKAGES = ["chromium"]
# Not needed by the tests: a load generator that leaves the server the processor.
BENCHMARK_PACKAGES = ["wrk"]


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, env=env)


def install() -> None:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    run(PY, "-m", "pip", "install", "-q", "--upgrade", "pip")
    run(PY, "-m", "pip", "install", "-q", "-e", ".[dev]")
    STAMP.write_text(digest)


def install_system_packages(
    packages: list[str] = DEBIAN_PACKAGES, without: str = "the browser tests will be skipped"
) -> None:
    missing = [p for p in packages if shutil.which(p) is None]
    if not missing:
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        print(
            f"note: {', '.join(missing)} not installed and cannot install it here; {without}",
            flush=True,
        )
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run("apt-get", "update", "-q", env=env)
    run("apt-get", "install", "-y", "-q", "--no-install-recommends", *missing, env=env)


def audit_dependencies() -> None:
    """pip-audit of the installed packages; fails on a known vulnerability.

    When no vulnerability database can be used (no network, or an index that does
    not serve PyPI's per-version JSON, so every package is skipped), it says so
    plainly and does not fail: "nothing checked" must never read as "clean".
    """
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        cmd = [str(BIN / "pip-audit"), "--skip-editable", "--progress-spinner", "off"]
        print("+", " ".join(cmd), flush=True)
        done = subprocess.run(
            [*cmd, "-f", "json", "-o", str(report)], cwd=ROOT, capture_output=True, text=True
        )
        if not report.exists():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            print(
                f"note: pip-audit could not reach a vulnerability database ({last}); "
                "dependencies NOT audited",
                flush=True,
            )
            return
        deps = json.loads(report.read_text())["dependencies"]
    audited = [d for d in deps if "skip_reason" not in d]
    vulnerable = [d for d in audited if d.get("vulns")]
    for d in vulnerable:
        ids = ", ".join(v["id"] for v in d["vulns"])
        print(f"VULNERABLE: {d['name']} {d['version']}: {ids}", flush=True)
    if vulnerable:
        sys.exit(1)
    if not audited:
        print(
            f"note: pip-audit reached no usable vulnerability data; all {len(deps)} "
            "packages were skipped, so dependencies are NOT audited",
            flush=True,
        )
        return
    print(
        f"pip-audit: {len(audited)} packages audited, no known vulnerabilities "
        f"({len(deps) - len(audited)} skipped)",
        flush=True,
    )


def test(extra: list[str]) -> None:
    install()
    install_system_packages()
    run(BIN / "ruff", "check", ".")
    run(BIN / "mypy", "matcher", "providers", "services", "wijzer")
    run(BIN / "lint-imports")
    packages = ("matcher", "providers", "services", "wijzer")
    run(BIN / "bandit", "-q", "-c", "bandit.yaml", "-r", *packages)
    audit_dependencies()
    run(PY, "-m", "pytest", *extra)


def demo(extra: list[str]) -> None:
    install()
    run(PY, "-m", "wijzer", "demo", *extra)


def main() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - the fresh machine may have an older Python
        sys.exit("Python 3.11 or newer is needed")
    if len(sys.argv) < 2 or sys.argv[1] not in {"install", "test", "demo", "bench-tools"}:
        sys.exit(__doc__)
    cmd, extra = sys.argv[1], sys.argv[2:]
    try:
        if cmd == "install":
            install()
        elif cmd == "test":
            test(extra)
        elif cmd == "bench-tools":
            install()
            install_system_packages(BENCHMARK_PACKAGES, "use the Python users (--client python)")
        else:
            demo(extra)
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)


if __name__ == "__main__":
    main()
