#!/usr/bin/env python3
"""Project tasks that need nothing but Python 3.11+ on a fresh machine.

    python3 tasks.py demo   # install, then start the wijzer with demo data (SQLite)
    python3 tasks.py test   # install, then ruff, mypy, import rules and the full test suite

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


def install_system_packages() -> None:
    missing = [p for p in DEBIAN_PACKAGES if shutil.which(p) is None]
    if not missing:
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        print(
            f"note: {', '.join(missing)} not installed and cannot install it here; "
            "the browser tests will be skipped",
            flush=True,
        )
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run("apt-get", "update", "-q", env=env)
    run("apt-get", "install", "-y", "-q", "--no-install-recommends", *missing, env=env)


def test(extra: list[str]) -> None:
    install()
    install_system_packages()
    run(BIN / "ruff", "check", ".")
    run(BIN / "mypy", "matcher")
    run(BIN / "lint-imports")
    run(PY, "-m", "pytest", *extra)


def demo(extra: list[str]) -> None:
    install()
    run(PY, "-m", "wijzer", "demo", *extra)


def main() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - the fresh machine may have an older Python
        sys.exit("Python 3.11 or newer is needed")
    if len(sys.argv) < 2 or sys.argv[1] not in {"install", "test", "demo"}:
        sys.exit(__doc__)
    cmd, extra = sys.argv[1], sys.argv[2:]
    try:
        if cmd == "install":
            install()
        elif cmd == "test":
            test(extra)
        else:
            demo(extra)
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)


if __name__ == "__main__":
    main()
