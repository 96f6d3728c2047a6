"""The reason catalogue: every reason, summary and warning with its code, sentence and group.

One home for what the matcher says about a pair or an unplaced need:

- `Reason`: why a need cannot be served at an offering (eligibility, explain);
- summaries: the code `explain` gives an unplaced need (a bare reason, "all candidates"
  plus a reason, or MIXED), see `summary_of`;
- `PairWarning`: facts about an eligible pair a person must see.

Each entry has the iJw WJ759 "reden afwijzing" code where one fits (an explicit None
where none does; codes from the iJw 3.2 list the project's reference data packages),
one B1 Dutch sentence (with a variant that takes parameters, such as the contra-
indications or the age range) and the group the screens show.  Child attributes have
their Dutch labels here too, so that no sentence shows a raw code.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from matcher.domain.model import ChildAttribute


class Reason(enum.Enum):
    """Why a need cannot be served at an offering (or at all)."""

    NO_PROVIDER_OFFERS_CARE_TYPE = "NO_PROVIDER_OFFERS_CARE_TYPE"
    ALTERNATIVE_NOT_ACCEPTED = "ALTERNATIVE_NOT_ACCEPTED"
    EXCLUDED_BY_TABLE = "EXCLUDED_BY_TABLE"
    FAMILY_PREFERS_WAITLIST = "FAMILY_PREFERS_WAITLIST"
    CONTRA_INDICATION = "CONTRA_INDICATION"
    NO_LVB_EXPERTISE = "NO_LVB_EXPERTISE"
    UNSTABLE_SITUATION = "UNSTABLE_SITUATION"
    AGE_OUT_OF_RANGE = "AGE_OUT_OF_RANGE"
    NOT_PURCHASED = "NOT_PURCHASED"
    NOT_PURCHASED_NO_MAIN_CONTRACTOR = "NOT_PURCHASED_NO_MAIN_CONTRACTOR"
    MAIN_CONTRACTOR_DECLINES = "MAIN_CONTRACTOR_DECLINES"
    ONLY_OUT_OF_REGION = "ONLY_OUT_OF_REGION"
    INTAKE_STOP = "INTAKE_STOP"
    PROVIDER_DECLINED_WITHOUT_CONTRA_INDICATION = "PROVIDER_DECLINED_WITHOUT_CONTRA_INDICATION"
    BUDGET_CEILING_REACHED = "BUDGET_CEILING_REACHED"
    WAIT_EXCEEDS_DEADLINE = "WAIT_EXCEEDS_DEADLINE"
    NO_CAPACITY = "NO_CAPACITY"
    FAMILY_BUNDLE_INFEASIBLE = "FAMILY_BUNDLE_INFEASIBLE"


class PairWarning(enum.Enum):
    """Facts about an eligible pair that a person must see."""

    TURNS_18_DURING_CARE = "TURNS_18_DURING_CARE"
    OUT_OF_REGION = "OUT_OF_REGION"
    DEPENDS_ON_WAIVER = "DEPENDS_ON_WAIVER"
    VIA_MAIN_CONTRACTOR = "VIA_MAIN_CONTRACTOR"
    LATE = "LATE"
    REFUSAL_IGNORED_BINDING = "REFUSAL_IGNORED_BINDING"
    ALTERNATIVE = "ALTERNATIVE"


class Group(enum.Enum):
    """The groups the screens show, in the order inkoop asked for them (DOMAIN 6c q3)."""

    NOT_PURCHASED = "niet_ingekocht"
    BUDGET_CEILING = "budgetplafond"
    INTAKE_STOP = "opnamestop"
    CONTRA_INDICATION = "contra_indicatie"
    NO_CAPACITY = "geen_capaciteit"
    NO_OFFER = "geen_aanbod"
    OUT_OF_REGION = "buiten_regio"
    EXCLUDED_BY_TABLE = "tafel"
    OTHER = "anders"
    MIXED = "meerdere"
    ATTENTION = "let_op"

    @property
    def label(self) -> str:
        return _GROUP_LABEL[self]


_GROUP_LABEL = {
    Group.NOT_PURCHASED: "Niet ingekocht",
    Group.BUDGET_CEILING: "Budgetplafond bereikt",
    Group.INTAKE_STOP: "Opnamestop",
    Group.CONTRA_INDICATION: "Contra-indicatie",
    Group.NO_CAPACITY: "Geen plek op tijd",
    Group.NO_OFFER: "Niemand biedt deze hulp",
    Group.OUT_OF_REGION: "Alleen buiten de regio",
    Group.EXCLUDED_BY_TABLE: "Uitgesloten door de tafel",
    Group.OTHER: "Andere reden",
    Group.MIXED: "Meerdere redenen",
    Group.ATTENTION: "Let op",
}


@dataclass(frozen=True)
class Entry:
    """One catalogue line.  `detail` is the sentence with parameters (str.format names);
    it is used when every parameter is given, else `sentence`."""

    wj759: str | None
    sentence: str
    group: Group
    detail: str | None = None

    def text(self, **params: object) -> str:
        if self.detail is not None and params and all(v is not None for v in params.values()):
            try:
                return self.detail.format(**params)
            except KeyError:
                return self.sentence
        return self.sentence


# iJw WJ759 codes (iJw 3.2): 2 past niet binnen budget, 3 geen contract,
# 7 zorginhoudelijke afkeur, 9 leeftijdsgrens is bereikt.
REASONS: dict[Reason, Entry] = {
    Reason.NO_PROVIDER_OFFERS_CARE_TYPE: Entry(
        None, "Deze aanbieder biedt deze hulp niet aan", Group.NO_OFFER
    ),
    Reason.ALTERNATIVE_NOT_ACCEPTED: Entry(
        None,
        "Dit is andere hulp, en gezin en professional hebben die niet als passend gekozen",
        Group.OTHER,
    ),
    Reason.EXCLUDED_BY_TABLE: Entry(
        None, "Uitgesloten door de tafel: deze plek is niet gekozen", Group.EXCLUDED_BY_TABLE
    ),
    Reason.FAMILY_PREFERS_WAITLIST: Entry(
        None, "Het gezin wil op een andere wachtlijst blijven", Group.OTHER
    ),
    Reason.CONTRA_INDICATION: Entry(
        "7",
        "De aanbieder noemt een contra-indicatie voor dit kind",
        Group.CONTRA_INDICATION,
        "De aanbieder noemt een contra-indicatie: geen kinderen met {contra}",
    ),
    Reason.NO_LVB_EXPERTISE: Entry(
        "7",
        "De aanbieder heeft geen LVB-deskundigheid (voor kinderen met een licht "
        "verstandelijke beperking)",
        Group.OTHER,
    ),
    Reason.UNSTABLE_SITUATION: Entry(
        "7", "Deze hulp begint pas als de situatie van het kind stabiel is", Group.OTHER
    ),
    Reason.AGE_OUT_OF_RANGE: Entry(
        "9",
        "De leeftijd van het kind past niet bij deze hulp",
        Group.OTHER,
        "De leeftijd past niet: deze hulp is voor {age_min} tot en met {age_max} jaar",
    ),
    Reason.NOT_PURCHASED: Entry(
        "3", "De gemeente heeft deze hulp niet bij deze aanbieder ingekocht", Group.NOT_PURCHASED
    ),
    Reason.NOT_PURCHASED_NO_MAIN_CONTRACTOR: Entry(
        "3",
        "Niet ingekocht, en geen hoofdaannemer zet deze aanbieder in",
        Group.NOT_PURCHASED,
    ),
    Reason.MAIN_CONTRACTOR_DECLINES: Entry(
        "3", "De hoofdaannemer zet deze aanbieder niet in", Group.NOT_PURCHASED
    ),
    Reason.ONLY_OUT_OF_REGION: Entry(None, "De plek ligt buiten de regio", Group.OUT_OF_REGION),
    Reason.INTAKE_STOP: Entry(
        None,
        "Er is een opnamestop: de aanbieder neemt nu geen nieuwe kinderen aan",
        Group.INTAKE_STOP,
    ),
    Reason.PROVIDER_DECLINED_WITHOUT_CONTRA_INDICATION: Entry(
        None,
        "De aanbieder heeft dit kind geweigerd zonder een contra-indicatie te noemen",
        Group.OTHER,
    ),
    Reason.BUDGET_CEILING_REACHED: Entry("2", "Het budgetplafond is bereikt", Group.BUDGET_CEILING),
    Reason.WAIT_EXCEEDS_DEADLINE: Entry(
        None, "De hulp kan pas na de uiterste datum beginnen", Group.NO_CAPACITY
    ),
    Reason.NO_CAPACITY: Entry(None, "Er is geen plek vrij: de plekken zijn vol", Group.NO_CAPACITY),
    Reason.FAMILY_BUNDLE_INFEASIBLE: Entry(
        None, "Broers en zussen kunnen hier niet samen terecht", Group.OTHER
    ),
}

WARNINGS: dict[PairWarning, Entry] = {
    PairWarning.TURNS_18_DURING_CARE: Entry(
        None,
        "Het kind wordt 18 tijdens deze hulp: regel de hulp na 18 jaar op tijd",
        Group.ATTENTION,
    ),
    PairWarning.OUT_OF_REGION: Entry(None, "Deze plek ligt buiten de regio", Group.OUT_OF_REGION),
    PairWarning.DEPENDS_ON_WAIVER: Entry(
        None,
        "Dit kan alleen als de aanbieder een contra-indicatie laat vallen (maatwerk)",
        Group.CONTRA_INDICATION,
    ),
    PairWarning.VIA_MAIN_CONTRACTOR: Entry(
        None,
        "Dit kan alleen via een hoofdaannemer",
        Group.ATTENTION,
        "Dit kan alleen via hoofdaannemer {main}",
    ),
    PairWarning.LATE: Entry(
        None, "De hulp begint na de uiterste datum van de norm", Group.NO_CAPACITY
    ),
    PairWarning.REFUSAL_IGNORED_BINDING: Entry(
        None,
        "De aanbieder weigerde dit kind, maar moet het nu aannemen (acceptatieplicht)",
        Group.ATTENTION,
    ),
    PairWarning.ALTERNATIVE: Entry(
        None, "Dit is andere hulp, door gezin en professional gekozen als passend", Group.ATTENTION
    ),
}

# A reason that is a summary by itself; every other reason is summarised as
# "ALL_CANDIDATES_<reason>" when all candidates share it.
BARE_SUMMARY = frozenset(
    {
        Reason.NO_CAPACITY,
        Reason.BUDGET_CEILING_REACHED,
        Reason.NOT_PURCHASED,
        Reason.NOT_PURCHASED_NO_MAIN_CONTRACTOR,
        Reason.NO_PROVIDER_OFFERS_CARE_TYPE,
        Reason.FAMILY_BUNDLE_INFEASIBLE,
    }
)
ALL_CANDIDATES = "ALL_CANDIDATES_"
MIXED = "MIXED"
# No candidate lies in the child's region (or there is none at all): advice for inkoop.
NOT_OFFERED_IN_REGION = "NOT_OFFERED_IN_REGION"

_SUMMARY_SENTENCE: dict[str, str] = {
    Reason.NO_CAPACITY.value: "Alle plekken die passen zijn vol",
    Reason.BUDGET_CEILING_REACHED.value: (
        "Het budgetplafond is bereikt bij alle aanbieders die passen"
    ),
    Reason.NOT_PURCHASED.value: "Deze hulp is voor de gemeente nergens ingekocht",
    Reason.NOT_PURCHASED_NO_MAIN_CONTRACTOR.value: (
        "Deze hulp is niet ingekocht, en geen hoofdaannemer zet een aanbieder ervan in"
    ),
    Reason.NO_PROVIDER_OFFERS_CARE_TYPE.value: "Geen aanbieder biedt deze hulp aan",
    Reason.FAMILY_BUNDLE_INFEASIBLE.value: "Er is geen plek voor het hele gezin samen",
    MIXED: "Bij elke aanbieder is er een andere reden",
    NOT_OFFERED_IN_REGION: "Niemand in de regio biedt deze hulp; inkoop kan dit inkopen",
}


def summary_codes() -> tuple[str, ...]:
    """Every summary `explain` can give."""
    out = [r.value if r in BARE_SUMMARY else ALL_CANDIDATES + r.value for r in Reason]
    return (*out, MIXED, NOT_OFFERED_IN_REGION)


def _summary_entry(code: str) -> Entry:
    if code == MIXED:
        return Entry(None, _SUMMARY_SENTENCE[MIXED], Group.MIXED)
    if code == NOT_OFFERED_IN_REGION:
        return Entry(None, _SUMMARY_SENTENCE[code], Group.NO_OFFER)
    bare = code.removeprefix(ALL_CANDIDATES)
    reason = Reason(bare)
    base = REASONS[reason]
    if code.startswith(ALL_CANDIDATES):
        return Entry(base.wj759, f"Bij alle aanbieders: {_lower_first(base.sentence)}", base.group)
    return Entry(base.wj759, _SUMMARY_SENTENCE[code], base.group)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


SUMMARIES: dict[str, Entry] = {code: _summary_entry(code) for code in summary_codes()}


def summary_of(reasons: Sequence[Reason]) -> str:
    """The summary of the candidates' reasons: one shared reason, or MIXED."""
    if not reasons:
        return Reason.NO_PROVIDER_OFFERS_CARE_TYPE.value
    first = reasons[0]
    if all(x == first for x in reasons):
        return first.value if first in BARE_SUMMARY else ALL_CANDIDATES + first.value
    return MIXED


# ---------------------------------------------------------------- look-ups


def wj759(reason: Reason) -> str | None:
    """The iJw WJ759 code of a reason, or None where no code fits."""
    return REASONS[reason].wj759


def reason_text(
    reason: Reason,
    *,
    contra: Iterable[ChildAttribute] = (),
    age_min: int | None = None,
    age_max: int | None = None,
) -> str:
    """The B1 sentence of a reason (no closing full stop), with the contra-indications
    or the age range filled in when given."""
    return _reason_text(reason, tuple(contra), age_min, age_max)


@lru_cache(maxsize=4096)
def _reason_text(
    reason: Reason, contra: tuple[ChildAttribute, ...], age_min: int | None, age_max: int | None
) -> str:
    # a search puts the reasons of some 200 offerings into words: a handful of distinct ones
    entry = REASONS[reason]
    if reason is Reason.CONTRA_INDICATION:
        return entry.text(contra=attribute_list(list(contra)) if contra else None)
    if reason is Reason.AGE_OUT_OF_RANGE:
        return entry.text(age_min=age_min, age_max=age_max)
    return entry.sentence


def warning_text(warning: PairWarning, *, main: str | None = None) -> str:
    entry = WARNINGS[warning]
    return entry.text(main=main) if warning is PairWarning.VIA_MAIN_CONTRACTOR else entry.sentence


def summary_text(code: str) -> str:
    """The B1 sentence of a summary code (the code itself if it is unknown)."""
    entry = SUMMARIES.get(code)
    return entry.sentence if entry is not None else code


def group_of(item: Reason | PairWarning | str) -> Group:
    """The screen group of a reason, a warning or a summary code."""
    if isinstance(item, Reason):
        return REASONS[item].group
    if isinstance(item, PairWarning):
        return WARNINGS[item].group
    entry = SUMMARIES.get(item)
    return entry.group if entry is not None else Group.OTHER


# ------------------------------------------------------------ attributes

ATTRIBUTE_LABELS: dict[ChildAttribute, str] = {
    ChildAttribute.ZEDENVERLEDEN: "een zedenverleden",
    ChildAttribute.SEXUALLY_TRANSGRESSIVE: "seksueel grensoverschrijdend gedrag",
    ChildAttribute.AGGRESSION: "agressie",
    ChildAttribute.LVB: "een licht verstandelijke beperking (LVB)",
    ChildAttribute.SEVERE_PSYCHIATRY: "ernstige psychiatrische problemen",
    ChildAttribute.TRAUMA_ATTACHMENT: "trauma- en hechtingsproblemen",
    ChildAttribute.UNSTABLE_SITUATION: "een situatie die nog niet stabiel is",
    ChildAttribute.SUICIDALITY: "gedachten aan zelfdoding",
    ChildAttribute.EXTERNALISING: "naar buiten gericht probleemgedrag",
    ChildAttribute.COMPLEX_DIVORCE: "een complexe scheiding van de ouders",
    ChildAttribute.ADDICTION: "een verslaving",
    ChildAttribute.NEEDS_CLOSED_SETTING: "de noodzaak van een gesloten plek",
    ChildAttribute.MULTI_COMPLEX: "meerdere complexe problemen tegelijk",
}


def attribute_label(attribute: ChildAttribute, *, capital: bool = False) -> str:
    """The Dutch label of a child attribute, as it reads after "met" ("met agressie")."""
    text = ATTRIBUTE_LABELS[attribute]
    return text[:1].upper() + text[1:] if capital else text


def attribute_list(attributes: Iterable[ChildAttribute]) -> str:
    """ "agressie", "agressie en een verslaving", "a, b en c" (in a fixed order)."""
    labels = [attribute_label(a) for a in sorted(set(attributes), key=lambda a: a.value)]
    if len(labels) <= 1:
        return "".join(labels)
    return f"{', '.join(labels[:-1])} en {labels[-1]}"


# ------------------------------------------------------------ decisive reason

# The order that decides which reason stands between a child and help when its
# candidates fail for different reasons (docs/matching-rules.md, "De doorslaggevende
# reden").  From what lies furthest from the tafel (purchase and region: inkoop and
# policy) through the fit of child and provider (no extra place changes these), the
# choices of family and tafel, to money, time and places (what extra capacity solves).
PRECEDENCE: tuple[Reason, ...] = (
    Reason.NOT_PURCHASED,
    Reason.NOT_PURCHASED_NO_MAIN_CONTRACTOR,
    Reason.MAIN_CONTRACTOR_DECLINES,
    Reason.ONLY_OUT_OF_REGION,
    Reason.AGE_OUT_OF_RANGE,
    Reason.CONTRA_INDICATION,
    Reason.UNSTABLE_SITUATION,
    Reason.NO_LVB_EXPERTISE,
    Reason.PROVIDER_DECLINED_WITHOUT_CONTRA_INDICATION,
    Reason.FAMILY_PREFERS_WAITLIST,
    Reason.EXCLUDED_BY_TABLE,
    Reason.INTAKE_STOP,
    Reason.BUDGET_CEILING_REACHED,
    Reason.WAIT_EXCEEDS_DEADLINE,
    Reason.NO_CAPACITY,
    Reason.FAMILY_BUNDLE_INFEASIBLE,
)
# Reasons that make an offering no candidate at all: other help, not chosen as passend.
NOT_A_CANDIDATE = frozenset({Reason.NO_PROVIDER_OFFERS_CARE_TYPE, Reason.ALTERNATIVE_NOT_ACCEPTED})
RANK: dict[Reason, int] = {r: i for i, r in enumerate(PRECEDENCE)}


def plural(n: int, one: str, many: str) -> str:
    """ "1 plek", "3 plekken", "0 kinderen"."""
    return f"{n} {one if n == 1 else many}"


def euro_text(cents: int) -> str:
    """Whole euros with a thousands dot: "€ 50.000" (amounts are rounded up)."""
    euros = -(-cents // 100)
    return f"€ {euros:,}".replace(",", ".")


def name_list(names: Sequence[str]) -> str:
    """ "A", "A en B", "A, B en C"."""
    items = list(dict.fromkeys(names))
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} en {items[-1]}"


def decisive_text(
    code: str,
    *,
    care_label: str,
    reason: Reason | None = None,
    names: Sequence[str] = (),
    parts: Sequence[Reason] = (),
    contra: Iterable[ChildAttribute] = (),
) -> str:
    """The B1 sentence of a child's decisive reason (with a closing full stop)."""
    if code == NOT_OFFERED_IN_REGION:
        text = f"Niemand in de regio biedt {care_label}; inkoop kan dit inkopen."
        if names:
            text += f" Buiten de regio biedt {name_list(names)} deze hulp wel."
        return text
    if code == MIXED or reason is None:
        groups = name_list([group_of(p).label.lower() for p in parts])
        return (
            "Er is niet één reden die de doorslag geeft: bij elke aanbieder spelen "
            f"meerdere redenen ({groups})."
        )
    why = reason_text(reason, contra=contra)
    text = f"Doorslaggevend: {_lower_first(why)}."
    if names and reason not in (Reason.NO_CAPACITY, Reason.FAMILY_BUNDLE_INFEASIBLE):
        text += f" Zonder deze reden kan het kind terecht bij {name_list(names)}."
    return text


# ------------------------------------------------------------ statuses

# The norm status of a placement as a reader sees it (keys: clocks.NormStatus values).
NORM_STATUS_LABELS: dict[str, str] = {
    "ON_TIME": "op tijd",
    "LATE": "te laat",
    "LATE_EXPLAINED": "te laat, met uitleg",
    "LATE_RESOLVED_BY_BREAKTHROUGH": "te laat, opgelost in de doorbraakaanpak",
    "PENDING": "nog niet begonnen",
    "UNKNOWN": "onbekend",
}

# How sure the answer is (keys: matcher.solution.Status values).
SOLVER_STATUS_LABELS: dict[str, str] = {
    "OPTIMAL": "de beste verdeling (bewezen)",
    "FEASIBLE": "een goede verdeling (niet bewezen de beste)",
    "INFEASIBLE": "geen verdeling mogelijk",
    "NO_SOLUTION_IN_TIME": "geen verdeling gevonden in de tijd",
    "MODEL_INVALID": "de invoer klopt niet",
}
