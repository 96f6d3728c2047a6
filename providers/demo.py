"""Seeded, realistic demo data in the import format.

`generate_region` builds one jeugdregio with its real gemeenten, 20-600
waiting children and providers whose capacity, waits, prices and ceilings
follow the figures in DOMAIN §5; `generate_regions` builds several such
regions in one data set (the demo holds two, `DEMO_REGIONS`, so one deployment
serves two regions that must stay apart); `generate_national` builds up to 100k
children and 10k offerings over all 42 regions for benchmarks.  Both return
typed records (as `providers.validate` makes them), so `providers.io.export_tables`
writes them and the importer reads them back unchanged.

Sources of the mixes (DOMAIN §5a, §5c): Haaglanden 1 Jan 2022, 35 waiting:
7 gezinshuis/kleinschalig, 7 begeleid/beschermd wonen, 2 other verblijf,
7 ambulante J-GGZ, 10 other ambulant, 2 not classified; ZHZ per gemeente
06-07-2021; waits of 1-2 months that grew to 4-5 months, trauma therapy over
a year, videohometraining 3 months, a personality assessment ~5 months.
Attribute rates, prices and ceilings are not in the sources and are
plausible synthetic values; provider names are fictional.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from typing import Any

from providers import reference

Records = dict[str, list[dict[str, Any]]]

# (care types, weight) per need group; weights are the Haaglanden counts of 35.
NEED_MIX: tuple[tuple[tuple[str, ...], float], ...] = (
    (("GEZINSHUIS", "KLEINSCHALIGE_WOONVOORZIENING", "GEZINSHUIS_PLUS"), 7),
    (("BEGELEID_WONEN", "BESCHERMD_WONEN"), 7),
    (
        (
            "PLEEGZORG",
            "RESIDENTIEEL_LVB",
            "RESIDENTIEEL_JENO",
            "JEUGDZORGPLUS",
            "DRIEMILIEUVOORZIENING",
        ),
        2,
    ),
    (("AMBULANTE_JGGZ",), 7),
    (
        (
            "TRAUMATHERAPIE",
            "VIDEOHOMETRAINING",
            "INTENSIEVE_THUISBEGELEIDING",
            "SPELTHERAPIE",
            "BEHANDELING_HECHTING",
            "KINDEREN_UIT_DE_KNEL",
            "SPECIALISTISCHE_AMBULANTE_JEUGDHULP",
        ),
        10,
    ),
    (("PERSPECTIEFONDERZOEK", "GEZINSDIAGNOSTIEK", "PERSOONLIJKHEIDSONDERZOEK"), 2),
)

# Synthetic attribute rates (not in the sources).
ATTRIBUTE_RATES = {
    "LVB": 0.20,
    "AGRESSIE": 0.15,
    "ZEDENVERLEDEN": 0.04,
    "INSTABIELE_SITUATIE": 0.10,
    "TRAUMA_HECHTING": 0.25,
    "ERNSTIGE_PSYCHIATRIE": 0.08,
    "COMPLEXE_SCHEIDING": 0.10,
    "EXTERNALISEREND": 0.12,
    "SUICIDALITEIT": 0.04,
    "VERSLAVING": 0.03,
}

# Typical expected wait to a real start, in days (DOMAIN §5c), as (low, high).
WAIT_DAYS: dict[str, tuple[int, int]] = {
    "TRAUMATHERAPIE": (240, 420),
    "VIDEOHOMETRAINING": (60, 120),
    "PERSOONLIJKHEIDSONDERZOEK": (100, 170),
    "AMBULANTE_JGGZ": (60, 180),
    "SPELTHERAPIE": (90, 240),
    "BEHANDELING_HECHTING": (90, 240),
    "KINDEREN_UIT_DE_KNEL": (60, 150),
}
DEFAULT_WAIT = (20, 150)

# Synthetic prices per placement in euro (low, high) by category.
PRICE_EUR = {
    "verblijf": (45_000, 120_000),
    "ambulant": (3_000, 14_000),
    "crisis": (6_000, 15_000),
    "diagnostiek": (2_500, 6_500),
}

AGE_RANGE: dict[str, tuple[int, int]] = {
    "BEGELEID_WONEN": (16, 23),
    "BESCHERMD_WONEN": (16, 23),
    "JEUGDZORGPLUS": (12, 18),
    "DRIEMILIEUVOORZIENING": (10, 18),
    "KLEINSCHALIGE_WOONVOORZIENING": (12, 18),
    "INTENSIEVE_BEHANDELPLEK": (0, 12),
    "SPELTHERAPIE": (3, 12),
    "VIDEOHOMETRAINING": (0, 12),
}

REGIONAL_GI = {
    # Zuid-West (DOMAIN §1b/§1c); elsewhere the national GI stands in.
    "JZ31": "INTERVENCE",
    "JZ24": "JBW",
    "JZ18": "JBW",
    "JZ27": "JBW",
    "JZ29": "JBRR",
    "JZ13": "JBRA",
    **{r: "DJGB" for r in ("JZ03", "JZ05", "JZ06", "JZ09", "JZ10", "JZ11", "JZ15", "JZ16")},
}

# DOMAIN §5a: ZHZ waiting children per gemeente on 06-07-2021.
GEMEENTE_WEIGHTS = {
    "GM0505": 8,  # Dordrecht
    "GM0523": 4,  # Hardinxveld-Giessendam
    "GM0610": 2,  # Sliedrecht
    "GM0531": 1,  # Hendrik-Ido-Ambacht
    "GM1963": 1,  # Hoeksche Waard
    "GM1978": 3,  # Molenlanden
    "GM0512": 2,  # Gorinchem
    "GM0642": 2,  # Zwijndrecht
}

DEFAULT_CHILDREN = {"JZ31": 23, "JZ24": 35}
# The demo's two regions: Zuid-Holland Zuid and Haaglanden (the sources of the mixes).
DEMO_REGIONS = ("JZ31", "JZ24")

NAME_PARTS = (
    "Kompas",
    "Horizonhuis",
    "Groeikracht",
    "Vlinderhof",
    "Ankerpunt",
    "Zonnehof",
    "Brugwerk",
    "Lichtbaken",
    "Wegwijzer",
    "Zeilkamp",
    "Duinzicht",
    "Linde",
    "Veldkamp",
    "Polderhuis",
    "Rivierzicht",
)

# Provider profiles: which care types they offer, and default contra-indications.
PROFILES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("verblijf", ("GEZINSHUIS", "GEZINSHUIS_PLUS", "PLEEGZORG"), ("ZEDENVERLEDEN",)),
    (
        "verblijf",
        ("KLEINSCHALIGE_WOONVOORZIENING", "RESIDENTIEEL_JENO"),
        ("ZEDENVERLEDEN", "AGRESSIE"),
    ),
    ("verblijf", ("BEGELEID_WONEN", "BESCHERMD_WONEN"), ("VERSLAVING",)),
    ("lvb", ("RESIDENTIEEL_LVB", "BESCHERMD_WONEN", "INTENSIEVE_THUISBEGELEIDING"), ("AGRESSIE",)),
    ("ggz", ("AMBULANTE_JGGZ", "TRAUMATHERAPIE", "BEHANDELING_HECHTING"), ("INSTABIELE_SITUATIE",)),
    (
        "ambulant",
        ("VIDEOHOMETRAINING", "INTENSIEVE_THUISBEGELEIDING", "SPECIALISTISCHE_AMBULANTE_JEUGDHULP"),
        (),
    ),
    ("ambulant", ("SPELTHERAPIE", "KINDEREN_UIT_DE_KNEL", "OUDERTRAINING_SCHEIDING"), ()),
    ("diagnostiek", ("PERSPECTIEFONDERZOEK", "GEZINSDIAGNOSTIEK", "PERSOONLIJKHEIDSONDERZOEK"), ()),
    ("gesloten", ("JEUGDZORGPLUS", "DRIEMILIEUVOORZIENING", "CRISISOPVANG"), ()),
)


def _weighted(rng: random.Random, items: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([i for i, _ in items], weights=[w for _, w in items], k=1)[0]


def _pick_need(rng: random.Random) -> str:
    group: tuple[str, ...] = _weighted(rng, NEED_MIX)
    return rng.choice(group)


def _age_for(care_type: str, rng: random.Random) -> int:
    lo, hi = AGE_RANGE.get(care_type, (0, 17))
    category = reference.care_types()[care_type].category
    if category == "verblijf":
        lo = max(lo, 8)
    return rng.randint(lo, min(hi, 17))


class _Builder:
    def __init__(self, seed: int, today: dt.date, year: int) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.year = year
        self.gem = reference.gemeenten(year)
        self.regions = reference.jeugdregios(year)
        self.cts = reference.care_types()
        self.data: Records = {
            "aanbieders": [],
            "aanbod": [],
            "contracten": [],
            "budgetten": [],
            "kinderen": [],
        }
        self.n_providers = 0
        self.n_offerings = 0
        self.n_children = 0
        self.n_families = 0

    # providers ------------------------------------------------------------------
    def _confirmed_on(self) -> dt.date:
        # ~15% of figures older than the default stale age (14 days).
        days = self.rng.randint(15, 60) if self.rng.random() < 0.15 else self.rng.randint(0, 10)
        return self.today - dt.timedelta(days=days)

    def provider(self, region: str, profile_idx: int, *, main: bool = False) -> dict[str, Any]:
        self.n_providers += 1
        gems = self.regions[region].gemeente_codes
        home = self.rng.choice(gems)
        name = f"{self.rng.choice(NAME_PARTS)} {self.gem[home].name}"
        rec = {
            "aanbieder_id": f"A{self.n_providers:05d}",
            "naam": name,
            "regio": region,
            "hoofdaannemer": main,
            "accepteert_onderaannemers": (),
            "_profile": profile_idx,
            "_home": home,
        }
        self.data["aanbieders"].append(rec)
        return rec

    def offering(self, prov: dict[str, Any], care_type: str, scarcity: float) -> dict[str, Any]:
        self.n_offerings += 1
        rng = self.rng
        info = self.cts[care_type]
        _, _, contra = PROFILES[prov["_profile"]]
        lo_w, hi_w = WAIT_DAYS.get(care_type, DEFAULT_WAIT)
        lo_p, hi_p = PRICE_EUR[info.category]
        a_lo, a_hi = AGE_RANGE.get(care_type, (0, 18))
        free = max(0, round(rng.expovariate(1 / max(0.3, scarcity)))) if rng.random() < 0.6 else 0
        rec = {
            "aanbod_id": f"O{self.n_offerings:06d}",
            "aanbieder_id": prov["aanbieder_id"],
            "zorgvorm": care_type,
            "gemeente": prov["_home"],
            "plaatsen_vrij": free,
            "vrijkomend_per_week": round(rng.choice((0.0, 0.25, 0.5, 0.5, 1.0, 2.0)), 2),
            "leeftijd_min": a_lo,
            "leeftijd_max": a_hi,
            "lvb_expertise": prov["_profile"] == 3 or rng.random() < 0.3,
            "contra_indicaties": tuple(c for c in contra if rng.random() < 0.7),
            "opnamestop": rng.random() < 0.08,
            "prijs_per_plaatsing": rng.randint(lo_p, hi_p) * 100,
            "intake_dagen": rng.choice((7, 14, 14, 21, 28, 42)),
            "verwachte_wachttijd_dagen": 0 if free else rng.randint(lo_w, hi_w),
            "werkgebied": (),
            "bevestigd_door": f"planning {prov['aanbieder_id']}",
            "bevestigd_op": self._confirmed_on(),
        }
        self.data["aanbod"].append(rec)
        return rec

    def region_supply(self, region: str, n_offerings: int, scarcity: float) -> None:
        rng = self.rng
        start = len(self.data["aanbieders"])
        made = 0
        # Every profile appears at least once, so most care types are offered.
        order = list(range(len(PROFILES)))
        rng.shuffle(order)
        while made < n_offerings:
            idx = (
                order[made % len(order)] if made < len(order) * 2 else rng.randrange(len(PROFILES))
            )
            prov = self.provider(region, idx, main=rng.random() < 0.25)
            cts = PROFILES[idx][1]
            k = min(n_offerings - made, rng.randint(1, len(cts)))
            for ct in rng.sample(cts, k):
                self.offering(prov, ct, scarcity)
                made += 1
        provs = self.data["aanbieders"][start:]
        valid_from = dt.date(self.today.year, 1, 1)
        valid_until = dt.date(self.today.year, 12, 31)
        offered: dict[str, set[str]] = {}
        for o in self.data["aanbod"]:
            if o["aanbieder_id"] in {p["aanbieder_id"] for p in provs}:
                offered.setdefault(o["aanbieder_id"], set()).add(o["zorgvorm"])
        for p in provs:
            for ct in sorted(offered.get(p["aanbieder_id"], ())):
                if rng.random() < 0.9:  # some care is not purchased (R10)
                    cat = self.cts[ct].category
                    self.data["contracten"].append(
                        {
                            "contract_id": f"C{len(self.data['contracten']) + 1:06d}",
                            "aanbieder_id": p["aanbieder_id"],
                            "regio": region,
                            "gemeente": None,
                            "zorgvorm": ct,
                            "perceel": cat.upper(),
                            "geldig_van": valid_from,
                            "geldig_tot": valid_until,
                        }
                    )
            amb = sorted(
                ct
                for ct in offered.get(p["aanbieder_id"], ())
                if self.cts[ct].category == "ambulant"
            )
            if amb:
                ceiling = rng.randint(150, 900) * 1000 * 100
                # Some ceilings are reached (Rijnmond reached its ambulant ceiling in Q3).
                spent = ceiling if rng.random() < 0.2 else int(ceiling * rng.uniform(0.4, 0.95))
                self.data["budgetten"].append(
                    {
                        "budget_id": f"B{len(self.data['budgetten']) + 1:06d}",
                        "niveau": "perceel",
                        "regio": region,
                        "aanbieder_id": p["aanbieder_id"],
                        "gemeente": None,
                        "perceel": "AMBULANT",
                        "zorgvormen": tuple(amb),
                        "plafond": ceiling,
                        "besteed": spent,
                        "bevestigd_door": f"inkoop {region}",
                        "bevestigd_op": self._confirmed_on(),
                    }
                )
        mains = [p for p in provs if p["hoofdaannemer"]]
        others = [p["aanbieder_id"] for p in provs if not p["hoofdaannemer"]]
        for m in mains:
            if others:
                m["accepteert_onderaannemers"] = tuple(
                    sorted(rng.sample(others, min(len(others), 2)))
                )

    def children(self, region: str, n: int) -> None:
        rng = self.rng
        gems = self.regions[region].gemeente_codes
        weights = [GEMEENTE_WEIGHTS.get(g, 1.0 if region != "JZ31" else 0.5) for g in gems]
        regional_gi = REGIONAL_GI.get(region, "LJR")
        made = 0
        while made < n:
            family = rng.random() < 0.10 and n - made >= 2
            size = rng.choice((2, 2, 3)) if family else 1
            size = min(size, n - made)
            gemeente = rng.choices(gems, weights=weights, k=1)[0]
            fam_ref = None
            shared_need = None
            if size > 1:
                self.n_families += 1
                fam_ref = f"G-{self.n_families:05d}"
                shared_need = rng.choice(
                    ("TRAUMATHERAPIE", "INTENSIEVE_THUISBEGELEIDING", "PLEEGZORG")
                )
            for _ in range(size):
                self.child(region, gemeente, regional_gi, fam_ref, shared_need)
                made += 1

    def child(
        self,
        region: str,
        gemeente: str,
        regional_gi: str,
        fam_ref: str | None,
        shared_need: str | None,
    ) -> None:
        rng = self.rng
        self.n_children += 1
        need = shared_need or _pick_need(rng)
        age = _age_for(need, rng)
        verblijf = self.cts[need].category == "verblijf"
        needs = [need]
        if rng.random() < 0.15:
            extra = rng.choice(
                ("AMBULANTE_JGGZ", "KINDEREN_UIT_DE_KNEL", "GEZINSDIAGNOSTIEK", "VIDEOHOMETRAINING")
            )
            if extra not in needs:
                needs.append(extra)
        attrs = [a for a, p in ATTRIBUTE_RATES.items() if rng.random() < p]
        if (
            shared_need == "TRAUMATHERAPIE"
            and "INSTABIELE_SITUATIE" not in attrs
            and rng.random() < 0.5
        ):
            attrs.append("INSTABIELE_SITUATIE")  # T3: siblings too unstable for trauma treatment
        # The mix of overdue and fresh rulings follows the inspection's norm-3 practice
        # test (DOMAIN §5b, Rijnmond 2021): of 37 children, 23 did not get help in time
        # and 14 did.  So 23 of 37 rulings are past the 3-month norm (up to 400 days:
        # the waits of §5c), the others fresh, their deadline still ahead.  A fresh
        # ruling is from the last two months (a choice, not a source figure): with an
        # intake of some weeks (§5c) a child whose deadline is days away cannot start
        # in time anyway, and the demo's groups would show only late children.  Dates
        # count back from the demo's peildatum (`today`).
        waited = rng.randint(95, 400) if rng.random() < 23 / 37 else rng.randint(5, 60)
        ruling = self.today - dt.timedelta(days=waited)
        born = ruling - dt.timedelta(days=age * 365 + rng.randint(0, 364))
        measure = _weighted(
            rng,
            (
                ("OTS_MACHTIGING_UHP", 0.55 if verblijf else 0.05),
                ("OTS", 0.35 if verblijf else 0.70),
                ("JEUGDRECLASSERING", 0.08 if age >= 12 else 0.0),
                ("VRIJWILLIG", 0.04),
            ),
        )
        gi = (
            "WSS"
            if "LVB" in attrs and rng.random() < 0.5
            else _weighted(rng, ((regional_gi, 0.75), ("LJR", 0.15), ("WSS", 0.10)))
        )
        urgent = ruling + dt.timedelta(days=rng.randint(21, 56)) if rng.random() < 0.10 else None
        self.data["kinderen"].append(
            {
                "kind_ref": f"K-{self.n_children:06d}",
                "gemeente": gemeente,
                "geboortemaand": f"{born.year:04d}-{born.month:02d}",
                "gi": gi,
                "maatregel": measure,
                "uitspraakdatum": ruling,
                "gi_in_kennis_datum": min(
                    self.today, ruling + dt.timedelta(days=rng.randint(0, 7))
                ),
                "urgente_deadline": urgent,
                "zorgvorm": needs[0],
                "zorgvorm_2": needs[1] if len(needs) > 1 else None,
                "zorgvorm_3": None,
                "kenmerken": tuple(sorted(attrs)),
                "gezin_ref": fam_ref,
                "huidig_aanbod_id": None,
                "gezinswens_aanbieder_id": None,
            }
        )

    def out_of_region(self, region: str) -> None:
        """A provider elsewhere with beschermd wonen and LVB expertise, not
        purchased here, accepted as onderaannemer by one hoofdaannemer (T6/T7)."""
        others = sorted(r for r in self.regions if r != region)
        far = self.rng.choice(others)
        prov = self.provider(far, 3)
        off = self.offering(prov, "BESCHERMD_WONEN", 1.0)
        off["lvb_expertise"] = True
        off["contra_indicaties"] = ()
        off["plaatsen_vrij"] = max(1, off["plaatsen_vrij"])
        off["verwachte_wachttijd_dagen"] = 0
        off["werkgebied"] = (far, region)
        mains = [p for p in self.data["aanbieders"] if p["hoofdaannemer"] and p["regio"] == region]
        if mains:
            m = mains[0]
            m["accepteert_onderaannemers"] = tuple(
                sorted({*m["accepteert_onderaannemers"], prov["aanbieder_id"]})
            )

    def finish(self) -> Records:
        for p in self.data["aanbieders"]:
            p.pop("_profile", None)
            p.pop("_home", None)
        return self.data


def generate_region(
    region: str = "JZ31",
    *,
    seed: int = 1,
    n_children: int | None = None,
    today: dt.date | None = None,
    year: int = reference.DEFAULT_YEAR,
) -> Records:
    """One jeugdregio with its real gemeenten and 20-600 waiting children."""
    return generate_regions((region,), seed=seed, n_children=n_children, today=today, year=year)


def generate_regions(
    regions: Sequence[str] = DEMO_REGIONS,
    *,
    seed: int = 1,
    n_children: int | Mapping[str, int] | None = None,
    today: dt.date | None = None,
    year: int = reference.DEFAULT_YEAR,
) -> Records:
    """Several jeugdregio's in one data set, each as `generate_region` makes it
    (`n_children` for each region, or per region code). The first region's records equal those of
    `generate_region` with the same seed: the others are drawn after it."""
    known = reference.jeugdregios(year)
    if not regions or len(set(regions)) != len(regions):
        raise ValueError("give one or more different jeugdregio's")
    for region in regions:
        if region not in known:
            raise ValueError(f"unknown jeugdregio {region!r}")
    sizes = [
        n_children
        if isinstance(n_children, int)
        else (n_children or DEFAULT_CHILDREN).get(r, DEFAULT_CHILDREN.get(r, 60))
        for r in regions
    ]
    if not all(20 <= n <= 600 for n in sizes):
        raise ValueError("a demo region has 20 to 600 waiting children")
    b = _Builder(seed, today or dt.date.today(), year)
    for region, n in zip(regions, sizes, strict=True):
        n_off = max(20, n // 2)
        # Scarcity: free places per offering.  60% of the offerings have some (see
        # `offering`), so the region's free places come to about 20% of its children.
        b.region_supply(region, n_off, scarcity=max(0.4, 0.4 * n / n_off))
        b.out_of_region(region)
        b.children(region, n)
    return b.finish()


def generate_national(
    n_children: int = 100_000,
    n_offerings: int = 10_000,
    *,
    seed: int = 1,
    today: dt.date | None = None,
    year: int = reference.DEFAULT_YEAR,
) -> Records:
    """All 42 regions; children and offerings split by number of gemeenten."""
    if n_children > 100_000 or n_offerings > 10_000:
        raise ValueError("the national generator goes up to 100k children and 10k offerings")
    regions = reference.jeugdregios(year)
    b = _Builder(seed, today or dt.date.today(), year)
    total_g = sum(len(r.gemeente_codes) for r in regions.values())
    codes = sorted(regions)
    child_split = _split(n_children, [len(regions[c].gemeente_codes) / total_g for c in codes])
    off_split = _split(n_offerings, [len(regions[c].gemeente_codes) / total_g for c in codes])
    for code, nc, no in zip(codes, child_split, off_split, strict=True):
        if no:
            b.region_supply(code, no, scarcity=max(0.4, 0.4 * nc / max(1, no)))
        if nc:
            b.children(code, nc)
    return b.finish()


def _split(total: int, shares: Sequence[float]) -> list[int]:
    raw = [total * s for s in shares]
    out = [int(x) for x in raw]
    rest = total - sum(out)
    order = sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)
    for i in order[:rest]:
        out[i] += 1
    return out


def counts(data: Mapping[str, Sequence[Any]]) -> dict[str, int]:
    return {t: len(rows) for t, rows in data.items()}
