from __future__ import annotations

import csv
from pathlib import Path

import pytest

from providers import reference
from providers.reference.build import build

SHARED_REF = Path(__file__).resolve().parents[3] / "shared" / "ref"


def test_all_gemeenten_and_regions_of_2025() -> None:
    gem = reference.gemeenten(2025)
    regions = reference.jeugdregios(2025)
    assert len(gem) == 342
    assert len(regions) == 42
    assert "JZ40" not in regions
    # every gemeente belongs to exactly one region, and the lists agree both ways
    members = [g for r in regions.values() for g in r.gemeente_codes]
    assert sorted(members) == sorted(gem)
    for code, g in gem.items():
        assert code in regions[g.region_code].gemeente_codes
        assert 50.7 < g.lat < 53.6
        assert 3.3 < g.lon < 7.3


def test_zhz_has_its_ten_real_gemeenten() -> None:
    names = {reference.gemeenten()[c].name for c in reference.jeugdregios()["JZ31"].gemeente_codes}
    assert {"Dordrecht", "Gorinchem", "Hoeksche Waard", "Molenlanden", "Sliedrecht"} <= names
    assert len(names) == 10


def test_every_row_has_source_and_year() -> None:
    for g in reference.gemeenten().values():
        assert g.bron
        assert g.bron_jaar == 2025
    for name in reference.CODE_LIST_FILES:
        for c in reference.code_list(name).values():
            assert c.bron, (name, c)
            assert c.bron_jaar == 2025, (name, c)
    for ct in reference.care_types().values():
        assert ct.bron
        assert ct.bron_jaar == 2025
    for table in (reference.attributes(), reference.gis(), reference.measures()):
        for c in table.values():
            assert c.bron
            assert c.bron_jaar


@pytest.mark.skipif(not SHARED_REF.exists(), reason="shared reference folder not present")
def test_package_data_is_built_from_the_shared_sources() -> None:
    built = build(SHARED_REF, 2025)
    data_dir = Path(reference.__file__).parent / "data" / "2025"
    for name, text in built.items():
        assert (data_dir / name).read_text(encoding="utf-8") == text, name


def test_code_lists_have_the_known_codes() -> None:
    assert reference.code_list("WJ232")["04"].label.lower().startswith("onder toezicht")
    assert reference.code_list("COD327")["04"].label == "Gecertificeerde instelling"
    assert reference.code_list("WJ759")["2"].label == "Past niet binnen budget"
    assert reference.code_list("jz020")["51"].get("zekerheid") == "niet geverifieerd"
    with pytest.raises(reference.ReferenceDataError):
        reference.code_list("XX999")


def test_unknown_year_is_a_clear_error() -> None:
    with pytest.raises(reference.ReferenceDataError, match="2019"):
        reference.gemeenten(2019)


def test_care_types_cover_the_matcher_enum_exactly() -> None:
    from matcher.domain import CareCategory, CareType

    category = {
        "verblijf": CareCategory.RESIDENTIAL,
        "ambulant": CareCategory.AMBULANT,
        "crisis": CareCategory.CRISIS,
        "diagnostiek": CareCategory.DIAGNOSTIC,
    }
    cts = reference.care_types()
    assert set(cts) == {c.value for c in CareType}
    for c in CareType:
        info = cts[c.value]
        assert category[info.category] is c.category, c
        assert info.home_rank == c.home_likeness_rank, c
        assert info.requires_stability == c.requires_stability, c


def test_care_types_map_to_existing_jz020_and_iv3_codes() -> None:
    jz020 = reference.code_list("JZ020")
    iv3 = reference.code_list("IV3")
    for ct in reference.care_types().values():
        assert ct.jz020 in jz020, ct
        assert jz020[ct.jz020].get("legacy_2015") == "false", ct  # current codes only
        assert ct.iv3_taakveld in iv3, ct
    # SOURCES.md: pleegzorg/gezinshuis/JZ+ live under 43/44 and 6.73a/6.73b/6.74c
    assert reference.care_types()["PLEEGZORG"].iv3_taakveld == "6.73a"
    assert reference.care_types()["GEZINSHUIS"].iv3_taakveld == "6.73b"
    assert reference.care_types()["JEUGDZORGPLUS"].iv3_taakveld == "6.74c"


def test_attributes_and_measures_map_to_the_matcher_enums() -> None:
    from matcher.domain import ChildAttribute, MeasureType

    attr_values = {a.value for a in ChildAttribute}
    for a in reference.attributes().values():
        assert a.get("matcher") in attr_values, a
    measure_names = {m.value for m in MeasureType}
    for m in reference.measures().values():
        assert m.get("matcher") in measure_names, m


def _write_products(path: Path, rows: list[dict[str, str]]) -> None:
    fields = [
        "code",
        "label",
        "categorie",
        "thuis_rang",
        "jz020",
        "iv3_taakveld",
        "bron",
        "bron_jaar",
    ]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def test_a_region_can_load_its_own_product_list(tmp_path: Path) -> None:
    p = tmp_path / "producten_jz31.csv"
    _write_products(
        p,
        [
            {
                "code": "GEZINSHUIS",
                "label": "Gezinshuis ZHZ-product 44G01",
                "categorie": "verblijf",
                "thuis_rang": "2",
                "jz020": "44",
                "iv3_taakveld": "6.73b",
                "bron": "SOJ ZHZ",
                "bron_jaar": "2025",
            },
            {
                "code": "ZHZ_KAMERTRAINING",
                "label": "Kamertraining",
                "categorie": "verblijf",
                "thuis_rang": "4",
                "jz020": "44",
                "iv3_taakveld": "6.73c",
                "bron": "SOJ ZHZ",
                "bron_jaar": "2025",
            },
        ],
    )
    merged = reference.load_region_products(p)
    assert merged["GEZINSHUIS"].label == "Gezinshuis ZHZ-product 44G01"
    assert merged["GEZINSHUIS"].bron == "SOJ ZHZ"
    assert "ZHZ_KAMERTRAINING" in merged
    assert "PLEEGZORG" in merged  # the project list stays underneath


def test_a_malformed_region_list_reports_every_row(tmp_path: Path) -> None:
    p = tmp_path / "kapot.csv"
    _write_products(
        p,
        [
            {
                "code": "X1",
                "label": "x",
                "categorie": "woonzorg",
                "thuis_rang": "2",
                "jz020": "44",
                "iv3_taakveld": "6.73b",
                "bron": "r",
                "bron_jaar": "2025",
            },
            {
                "code": "X2",
                "label": "y",
                "categorie": "ambulant",
                "thuis_rang": "9",
                "jz020": "45",
                "iv3_taakveld": "6.72a",
                "bron": "r",
                "bron_jaar": "2025",
            },
        ],
    )
    with pytest.raises(reference.ReferenceDataError) as exc:
        reference.load_region_products(p)
    assert "rij 2" in str(exc.value)
    assert "rij 3" in str(exc.value)


def test_distance_is_straight_line_km() -> None:
    g = reference.gemeenten()
    d = reference.distance_km(g["GM0505"], g["GM0512"])  # Dordrecht - Gorinchem centroids
    # independent check: equirectangular approximation, good to well under 1% here
    import math

    a, b = g["GM0505"], g["GM0512"]
    x = math.radians(b.lon - a.lon) * math.cos(math.radians((a.lat + b.lat) / 2))
    y = math.radians(b.lat - a.lat)
    assert d == pytest.approx(6371.0 * math.hypot(x, y), rel=0.01)
    assert 15 < d < 25
    assert 140 < reference.distance_km(g["GM0363"], g["GM0014"]) < 160  # Amsterdam - Groningen
    assert reference.distance_km(g["GM0505"], g["GM0505"]) == 0


def test_distance_between_codes_is_the_distance_as_shown() -> None:
    g = reference.gemeenten()
    d = reference.distance_between("GM0505", "GM0512")
    assert d == round(reference.distance_km(g["GM0505"], g["GM0512"]), 1)
    assert d == reference.distance_between("GM0512", "GM0505")
    assert reference.distance_between("GM0505", "GM0505") == 0
    assert reference.distance_between("GM0505", "GM9999") is None
