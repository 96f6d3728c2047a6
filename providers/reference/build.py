"""Rebuild the package's reference tables from the shared source folder.

    python -m providers.reference.build SOURCE_DIR [--year 2025]

The source files (see SOURCES.md there) lack a uniform `bron` / `bron_jaar`
pair; every row we ship carries both so a region can always tell where a code
came from and for which year it holds.  Run this when the source folder gets
a new year; the test suite checks the shipped files still match the source.
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"

GEMEENTEN_BRON = "CBS/PDOK gebiedsindelingen (cartomap/nl, wgs84, 01e3b4ce)"

# source file -> (target file, columns kept, extra constant columns)
CODE_LISTS: dict[str, str] = {
    "ijw_jz020_productcategorie.csv": "jz020.csv",
    "ijw_wj759_reden_afwijzing.csv": "wj759.csv",
    "ijw_cod327_code_verwijzer.csv": "cod327.csv",
    "ijw_wj232_juridische_status.csv": "wj232.csv",
    "iv3_taakvelden_jeugd.csv": "iv3_taakvelden.csv",
}


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(rows: list[dict[str, str]], fields: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def build(source: Path, year: int) -> dict[str, str]:
    """Return {file name: CSV text} for one year, without writing anything."""
    files: dict[str, str] = {}

    gemeenten = _read(source / "gemeenten.csv")
    for row in gemeenten:
        row["bron"] = GEMEENTEN_BRON
        row["bron_jaar"] = row.get("bron_jaar") or str(year)
    files["gemeenten.csv"] = _write(
        gemeenten,
        [
            "gemeentecode",
            "gemeentenaam",
            "jeugdregio_code",
            "jeugdregio_naam",
            "provincie",
            "lat",
            "lon",
            "bron",
            "bron_jaar",
        ],
    )

    regios = _read(source / "jeugdregios.csv")
    for row in regios:
        row["bron"] = GEMEENTEN_BRON
        row["bron_jaar"] = row.get("bron_jaar") or str(year)
    files["jeugdregios.csv"] = _write(
        regios,
        [
            "jeugdregio_code",
            "jeugdregio_naam",
            "aantal_gemeenten",
            "provincies",
            "lat",
            "lon",
            "gemeentecodes",
            "bron",
            "bron_jaar",
        ],
    )

    for src, target in CODE_LISTS.items():
        rows = _read(source / src)
        fields = list(rows[0].keys())
        for row in rows:
            # The code lists carry a release (iJw 3.2) but no year: the year is
            # the table year in which this release is the one in force.
            row["bron_jaar"] = str(year)
            row.setdefault("bron_versie", "")
        if "bron_versie" not in fields:
            fields.append("bron_versie")
        files[target] = _write(rows, [*fields, "bron_jaar"])
    return files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--year", type=int, default=2025)
    args = parser.parse_args(argv)
    target = DATA_DIR / str(args.year)
    target.mkdir(parents=True, exist_ok=True)
    for name, text in build(args.source, args.year).items():
        (target / name).write_text(text, encoding="utf-8")
        print(f"wrote {target / name}")


if __name__ == "__main__":
    main()
