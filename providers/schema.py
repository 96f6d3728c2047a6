"""The import format: tables, columns, types and code lists.

One definition drives the templates, the validation, the export and the demo
generator, so they cannot drift apart.  Table and column names are Dutch
because regions and providers fill them in; identifiers in code stay English.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(enum.Enum):
    TEXT = "tekst"
    ID = "id"  # short identifier without spaces
    REF = "pseudoniem"  # pseudonymous child/family reference
    INT = "geheel getal"
    DECIMAL = "getal"
    EUR = "bedrag in euro"
    DATE = "datum"
    MONTH = "maand"
    BOOL = "ja/nee"
    CODE = "code"
    CODES = "codes"  # comma-separated list of codes


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    codes: str | None = (
        None  # gemeente | regio | zorgvorm | kenmerk | gi | maatregel | budgetniveau
    )
    min: float | None = None
    max: float | None = None
    refers_to: str | None = None  # table whose key this column must name
    help: str = ""


@dataclass(frozen=True)
class Table:
    name: str  # also the sheet name and the CSV file stem
    key: str
    columns: tuple[Column, ...]
    help: str
    case_data: bool = False  # rows about children: PII checks, audit

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


BUDGET_LEVELS = ("aanbieder", "perceel", "gemeente", "regio")

_confirmed = (
    Column(
        "bevestigd_door",
        Kind.TEXT,
        True,
        help="Wie heeft deze cijfers bevestigd (functie of team).",
    ),
    Column("bevestigd_op", Kind.DATE, True, help="Datum waarop de cijfers zijn bevestigd."),
)

PROVIDERS = Table(
    "aanbieders",
    "aanbieder_id",
    (
        Column(
            "aanbieder_id", Kind.ID, True, help="Eigen code van de aanbieder, bijvoorbeeld A001."
        ),
        Column("naam", Kind.TEXT, True, help="Naam van de organisatie."),
        Column("regio", Kind.CODE, True, codes="regio", help="Jeugdregio van de hoofdvestiging."),
        Column("hoofdaannemer", Kind.BOOL, help="ja als de aanbieder hoofdaannemer is."),
        Column(
            "accepteert_onderaannemers",
            Kind.CODES,
            refers_to="aanbieders",
            help="Aanbieders die deze hoofdaannemer als onderaannemer accepteert, met komma's.",
        ),
    ),
    "Eén rij per aanbieder.",
)

OFFERINGS = Table(
    "aanbod",
    "aanbod_id",
    (
        Column("aanbod_id", Kind.ID, True, help="Eigen code van dit aanbod."),
        Column("aanbieder_id", Kind.ID, True, refers_to="aanbieders", help="Code uit aanbieders."),
        Column("zorgvorm", Kind.CODE, True, codes="zorgvorm", help="Zorgvorm (zie Toelichting)."),
        Column(
            "gemeente", Kind.CODE, True, codes="gemeente", help="Gemeente van de locatie (GM-code)."
        ),
        Column("plaatsen_vrij", Kind.INT, True, min=0, max=10_000, help="Vrije plaatsen nu."),
        Column(
            "vrijkomend_per_week",
            Kind.DECIMAL,
            min=0,
            max=1_000,
            help="Gemiddeld aantal plaatsen dat per week vrijkomt (mag 0,5 zijn).",
        ),
        Column("leeftijd_min", Kind.INT, min=0, max=27, help="Jongste leeftijd in jaren."),
        Column("leeftijd_max", Kind.INT, min=0, max=27, help="Oudste leeftijd in jaren."),
        Column("lvb_expertise", Kind.BOOL, help="ja als er LVB-expertise is."),
        Column(
            "contra_indicaties",
            Kind.CODES,
            codes="kenmerk",
            help="Kenmerken waarvoor het aanbod niet passend is, met komma's.",
        ),
        Column("opnamestop", Kind.BOOL, help="ja bij een opnamestop."),
        Column("prijs_per_plaatsing", Kind.EUR, min=0, max=10_000_000, help="Prijs in euro."),
        Column("intake_dagen", Kind.INT, min=0, max=730, help="Dagen van aanmelding tot start."),
        Column(
            "verwachte_wachttijd_dagen",
            Kind.INT,
            min=0,
            max=3650,
            help="Verwachte wachttijd tot de hulp echt start (niet tot de intake).",
        ),
        Column(
            "werkgebied",
            Kind.CODES,
            codes="regio",
            help="Jeugdregio's waar dit aanbod kinderen opneemt; leeg is de eigen regio.",
        ),
        *_confirmed,
    ),
    "Eén rij per aanbieder, zorgvorm en locatie.",
)

CONTRACTS = Table(
    "contracten",
    "contract_id",
    (
        Column("contract_id", Kind.ID, True, help="Eigen code van het contract."),
        Column("aanbieder_id", Kind.ID, True, refers_to="aanbieders", help="Code uit aanbieders."),
        Column("regio", Kind.CODE, True, codes="regio", help="Jeugdregio die inkoopt."),
        Column(
            "gemeente",
            Kind.CODE,
            codes="gemeente",
            help="Alleen invullen als één gemeente apart inkoopt.",
        ),
        Column("zorgvorm", Kind.CODE, True, codes="zorgvorm", help="Ingekochte zorgvorm."),
        Column("perceel", Kind.TEXT, help="Naam van het perceel, bijvoorbeeld AMBULANT."),
        Column("geldig_van", Kind.DATE, True, help="Eerste dag van het contract."),
        Column("geldig_tot", Kind.DATE, True, help="Laatste dag van het contract."),
    ),
    "Eén rij per aanbieder, regio (of gemeente) en zorgvorm.",
)

BUDGETS = Table(
    "budgetten",
    "budget_id",
    (
        Column("budget_id", Kind.ID, True, help="Eigen code van het budget."),
        Column(
            "niveau",
            Kind.CODE,
            True,
            codes="budgetniveau",
            help="aanbieder, perceel, gemeente of regio.",
        ),
        Column("regio", Kind.CODE, True, codes="regio", help="Jeugdregio van het budget."),
        Column(
            "aanbieder_id", Kind.ID, refers_to="aanbieders", help="Nodig bij aanbieder en perceel."
        ),
        Column("gemeente", Kind.CODE, codes="gemeente", help="Nodig bij niveau gemeente."),
        Column("perceel", Kind.TEXT, help="Nodig bij niveau perceel."),
        Column(
            "zorgvormen",
            Kind.CODES,
            codes="zorgvorm",
            help="Zorgvormen die onder dit budget vallen; leeg is alle.",
        ),
        Column("plafond", Kind.EUR, True, min=0, max=10**11, help="Budgetplafond in euro."),
        Column("besteed", Kind.EUR, min=0, max=10**11, help="Al besteed in euro."),
        *_confirmed,
    ),
    "Eén rij per budgetplafond.",
)

CHILDREN = Table(
    "kinderen",
    "kind_ref",
    (
        Column(
            "kind_ref",
            Kind.REF,
            True,
            help="Pseudoniem, bijvoorbeeld K-00012. Nooit een naam of BSN.",
        ),
        Column(
            "gemeente",
            Kind.CODE,
            True,
            codes="gemeente",
            help="Gemeente van het woonplaatsbeginsel.",
        ),
        Column("geboortemaand", Kind.MONTH, True, help="Jaar en maand, bijvoorbeeld 2012-05."),
        Column("gi", Kind.CODE, True, codes="gi", help="Gecertificeerde instelling."),
        Column("maatregel", Kind.CODE, True, codes="maatregel", help="Soort maatregel."),
        Column("uitspraakdatum", Kind.DATE, True, help="Datum van de uitspraak van de rechter."),
        Column("gi_in_kennis_datum", Kind.DATE, help="Datum waarop de GI in kennis is gesteld."),
        Column(
            "urgente_deadline",
            Kind.DATE,
            help="Eerdere datum als de hulp eerder moet starten ('zoveel eerder').",
        ),
        Column(
            "zorgvorm",
            Kind.CODE,
            True,
            codes="hulpvraag",
            help="Hulp waarop het kind wacht. Nog niet bepaald? Vul NOG_NIET_BEPAALD in: "
            "het kind telt dan mee, maar krijgt nog geen plek.",
        ),
        Column("zorgvorm_2", Kind.CODE, codes="hulpvraag", help="Tweede hulpvraag (mag leeg)."),
        Column("zorgvorm_3", Kind.CODE, codes="hulpvraag", help="Derde hulpvraag (mag leeg)."),
        Column(
            "kenmerken", Kind.CODES, codes="kenmerk", help="Kenmerken van het kind, met komma's."
        ),
        Column(
            "gezin_ref",
            Kind.REF,
            help="Pseudoniem van het gezin; broers en zussen met hetzelfde gezin_ref horen "
            "bij elkaar.",
        ),
        Column(
            "huidig_aanbod_id",
            Kind.ID,
            refers_to="aanbod",
            help="Huidige plek (aanbod_id), als het kind al ergens verblijft.",
        ),
        Column(
            "gezinswens_aanbieder_id",
            Kind.ID,
            refers_to="aanbieders",
            help="Aanbieder (aanbieder_id) op wiens wachtlijst het gezin wil blijven staan. "
            "Het kind krijgt dan geen plek bij een andere aanbieder. Mag leeg.",
        ),
    ),
    "Eén rij per wachtend kind. Alleen pseudoniemen: geen namen, BSN of adressen.",
    case_data=True,
)

TABLES: dict[str, Table] = {t.name: t for t in (PROVIDERS, OFFERINGS, CONTRACTS, BUDGETS, CHILDREN)}
IMPORT_ORDER = ("aanbieders", "aanbod", "contracten", "budgetten", "kinderen")
