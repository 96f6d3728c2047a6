"""docs/architecture.md stays true: every path it names exists, and every layer and
fact home it names is where the table says."""

from __future__ import annotations

import ast
import re
import tomllib
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


# Of the data layer, routes and view contexts read only the reference code lists and
# the naming; everything else goes through a use case in services.
WEB_MAY_IMPORT = {"providers", "providers.reference", "providers.naming"}
ROUTES_AND_VIEWS = ("wijzer/routers", "wijzer/views")
CONTRACT = "routes and views call use cases: of providers only reference data"


def _providers_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "providers"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "providers":
                found |= {f"providers.{a.name}" for a in node.names}
            elif node.module.startswith("providers."):
                found.add(node.module)
    return found


def test_routes_and_views_import_only_reference_data_from_providers() -> None:
    files = [p for folder in ROUTES_AND_VIEWS for p in sorted((ROOT / folder).glob("*.py"))]
    assert len(files) > 20  # the folders are where this test looks; none found proves nothing
    bad = {str(p.relative_to(ROOT)): sorted(_providers_imports(p) - WEB_MAY_IMPORT) for p in files}
    assert {k: v for k, v in bad.items() if v} == {}


def test_the_import_contract_forbids_every_other_providers_module() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = {c["name"]: c for c in config["tool"]["importlinter"]["contracts"]}
    contract = contracts[CONTRACT]
    assert contract["type"] == "forbidden"
    assert sorted(contract["source_modules"]) == ["wijzer.routers", "wijzer.views"]
    modules = {
        f"providers.{p.stem if p.is_file() else p.name}"
        for p in (ROOT / "providers").iterdir()
        if (p.suffix == ".py" and p.stem not in ("__init__", "__main__"))
        or (p.is_dir() and (p / "__init__.py").exists())
    }
    assert sorted(modules - WEB_MAY_IMPORT) == sorted(contract["forbidden_modules"])
