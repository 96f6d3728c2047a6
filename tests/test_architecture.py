"""docs/architecture.md stays true: every path it names exists, and every layer and
fact home it names is where the table says."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
# Backticked repository paths: a top folder of the project, then anything up to the
# closing backtick (folders end in "/").
PATH_RE = re.compile(r"`((?:matcher|providers|services|wijzer|tests|docs|benchmarks)/[^`\s:]*)`")


def test_every_path_in_the_architecture_doc_exists() -> None:
    paths = sorted(set(PATH_RE.findall(DOC.read_text(encoding="utf-8"))))
    assert len(paths) > 30  # the doc names its files; an empty match would prove nothing
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert missing == [], f"docs/architecture.md names paths that do not exist: {missing}"


def test_no_source_file_is_over_600_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for top in ("matcher", "providers", "services", "wijzer")
        for p in (ROOT / top).rglob("*.py")
        if "migrations" not in p.parts
        and (n := len(p.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert long == {}
