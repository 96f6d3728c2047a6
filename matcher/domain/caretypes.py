"""Care types (hulpvormen) with their category, "zo thuis mogelijk" rank and stability need.

The rank follows 'Een Thuis voor Noordje': thuis with ambulant help (1), pleegzorg or
gezinshuis (2), kleinschalige woonvoorziening (3), residential groups and protected living
(4), driemilieu and secure care (5).  Lower is more like home.  Crisis and diagnostic help
do not change where the child lives, so they rank as ambulant help.
"""

from __future__ import annotations

import enum


class CareCategory(enum.Enum):
    RESIDENTIAL = "RESIDENTIAL"
    AMBULANT = "AMBULANT"
    CRISIS = "CRISIS"
    DIAGNOSTIC = "DIAGNOSTIC"


_R, _A, _C, _D = (
    CareCategory.RESIDENTIAL,
    CareCategory.AMBULANT,
    CareCategory.CRISIS,
    CareCategory.DIAGNOSTIC,
)

# name -> (category, home_likeness_rank, requires_stability, dutch label)
_TABLE: dict[str, tuple[CareCategory, int, bool, str]] = {
    # verblijf
    "PLEEGZORG": (_R, 2, False, "pleegzorg"),
    "GEZINSHUIS": (_R, 2, False, "gezinshuis"),
    "GEZINSHUIS_PLUS": (_R, 2, False, "gezinshuis plus"),
    "KLEINSCHALIGE_WOONVOORZIENING": (_R, 3, False, "kleinschalige woonvoorziening"),
    "RESIDENTIEEL_JENO": (_R, 4, False, "residentiële groep (JenO)"),
    "RESIDENTIEEL_LVB": (_R, 4, False, "residentiële groep (LVB)"),
    "RESIDENTIEEL_GGZ": (_R, 4, True, "residentiële GGZ"),
    "INTENSIEVE_BEHANDELPLEK": (_R, 4, False, "intensieve behandelplek"),
    "BEGELEID_WONEN": (_R, 4, False, "begeleid wonen"),
    "BESCHERMD_WONEN": (_R, 4, False, "beschermd wonen"),
    "VIERENTWINTIGUURSVOORZIENING": (_R, 4, False, "24-uursvoorziening"),
    "OPEN_SETTING": (_R, 4, False, "open setting"),
    "GEZINSOPNAME": (_R, 4, False, "gezinsopname"),
    "SPECIALISTISCHE_VOORZIENING": (_R, 4, False, "specialistische voorziening"),
    "DRIEMILIEUVOORZIENING": (_R, 5, False, "driemilieuvoorziening"),
    "JEUGDZORGPLUS": (_R, 5, False, "JeugdzorgPlus (gesloten)"),
    # ambulant
    "AMBULANTE_JGGZ": (_A, 1, True, "ambulante jeugd-GGZ"),
    "TRAUMATHERAPIE": (_A, 1, True, "traumatherapie"),
    "TRAUMABEHANDELING": (_A, 1, True, "traumabehandeling"),
    "SPELTHERAPIE": (_A, 1, False, "speltherapie"),
    "AMBULANTE_BEHANDELING": (_A, 1, False, "ambulante behandeling"),
    "BEHANDELING_HECHTING": (_A, 1, True, "behandeling hechtingsproblematiek"),
    "INTERCULTURELE_BEGELEIDING": (_A, 1, False, "interculturele begeleiding"),
    "KINDEREN_UIT_DE_KNEL": (_A, 1, False, "Kinderen uit de Knel"),
    "OUDERTRAINING_SCHEIDING": (_A, 1, False, "training ouders bij complexe scheiding"),
    "VIDEOHOMETRAINING": (_A, 1, False, "videohometraining"),
    "INTENSIEVE_THUISBEGELEIDING": (_A, 1, False, "intensieve thuisbegeleiding"),
    "INTENSIEVE_HOME_TRAINING": (_A, 1, False, "intensieve home training"),
    "SPECIALISTISCHE_AMBULANTE_JEUGDHULP": (_A, 1, False, "specialistische ambulante hulp"),
    "SPECIALISTISCHE_DAGHULP": (_A, 1, False, "specialistische daghulp"),
    "PLEEGZORGBEGELEIDING": (_A, 1, False, "pleegzorgbegeleiding"),
    "VERSLAVINGSZORG": (_A, 1, False, "verslavingszorg"),
    "HULP_LOKAAL_TEAM": (_A, 1, False, "hulp lokaal team"),
    "FORENSISCHE_JEUGDHULP": (_A, 1, False, "forensische jeugdhulp"),
    # crisis
    "CRISISOPVANG": (_C, 4, False, "crisisopvang"),
    "CRISISHULP": (_C, 1, False, "crisishulp"),
    "SPOEDHULP": (_C, 1, False, "ambulante spoedhulp"),
    # diagnostiek
    "PERSPECTIEFONDERZOEK": (_D, 1, False, "perspectiefonderzoek"),
    "GEZINSDIAGNOSTIEK": (_D, 1, False, "gezinsdiagnostiek"),
    "PERSOONLIJKHEIDSONDERZOEK": (_D, 1, False, "persoonlijkheidsonderzoek"),
    "TRIAGE": (_D, 1, False, "triage"),
}


class CareType(enum.Enum):
    """A hulpvorm.  Values are the stable identifiers used in scenario files."""

    PLEEGZORG = "PLEEGZORG"
    GEZINSHUIS = "GEZINSHUIS"
    GEZINSHUIS_PLUS = "GEZINSHUIS_PLUS"
    KLEINSCHALIGE_WOONVOORZIENING = "KLEINSCHALIGE_WOONVOORZIENING"
    RESIDENTIEEL_JENO = "RESIDENTIEEL_JENO"
    RESIDENTIEEL_LVB = "RESIDENTIEEL_LVB"
    RESIDENTIEEL_GGZ = "RESIDENTIEEL_GGZ"
    INTENSIEVE_BEHANDELPLEK = "INTENSIEVE_BEHANDELPLEK"
    BEGELEID_WONEN = "BEGELEID_WONEN"
    BESCHERMD_WONEN = "BESCHERMD_WONEN"
    VIERENTWINTIGUURSVOORZIENING = "VIERENTWINTIGUURSVOORZIENING"
    OPEN_SETTING = "OPEN_SETTING"
    GEZINSOPNAME = "GEZINSOPNAME"
    SPECIALISTISCHE_VOORZIENING = "SPECIALISTISCHE_VOORZIENING"
    DRIEMILIEUVOORZIENING = "DRIEMILIEUVOORZIENING"
    JEUGDZORGPLUS = "JEUGDZORGPLUS"
    AMBULANTE_JGGZ = "AMBULANTE_JGGZ"
    TRAUMATHERAPIE = "TRAUMATHERAPIE"
    TRAUMABEHANDELING = "TRAUMABEHANDELING"
    SPELTHERAPIE = "SPELTHERAPIE"
    AMBULANTE_BEHANDELING = "AMBULANTE_BEHANDELING"
    BEHANDELING_HECHTING = "BEHANDELING_HECHTING"
    INTERCULTURELE_BEGELEIDING = "INTERCULTURELE_BEGELEIDING"
    KINDEREN_UIT_DE_KNEL = "KINDEREN_UIT_DE_KNEL"
    OUDERTRAINING_SCHEIDING = "OUDERTRAINING_SCHEIDING"
    VIDEOHOMETRAINING = "VIDEOHOMETRAINING"
    INTENSIEVE_THUISBEGELEIDING = "INTENSIEVE_THUISBEGELEIDING"
    INTENSIEVE_HOME_TRAINING = "INTENSIEVE_HOME_TRAINING"
    SPECIALISTISCHE_AMBULANTE_JEUGDHULP = "SPECIALISTISCHE_AMBULANTE_JEUGDHULP"
    SPECIALISTISCHE_DAGHULP = "SPECIALISTISCHE_DAGHULP"
    PLEEGZORGBEGELEIDING = "PLEEGZORGBEGELEIDING"
    VERSLAVINGSZORG = "VERSLAVINGSZORG"
    HULP_LOKAAL_TEAM = "HULP_LOKAAL_TEAM"
    FORENSISCHE_JEUGDHULP = "FORENSISCHE_JEUGDHULP"
    CRISISOPVANG = "CRISISOPVANG"
    CRISISHULP = "CRISISHULP"
    SPOEDHULP = "SPOEDHULP"
    PERSPECTIEFONDERZOEK = "PERSPECTIEFONDERZOEK"
    GEZINSDIAGNOSTIEK = "GEZINSDIAGNOSTIEK"
    PERSOONLIJKHEIDSONDERZOEK = "PERSOONLIJKHEIDSONDERZOEK"
    TRIAGE = "TRIAGE"

    @property
    def category(self) -> CareCategory:
        return _TABLE[self.value][0]

    @property
    def home_likeness_rank(self) -> int:
        """1 (thuis + ambulant) to 5 (driemilieu, gesloten); lower is more like home."""
        return _TABLE[self.value][1]

    @property
    def requires_stability(self) -> bool:
        """True for treatments that cannot start while the situation is unstable (R6)."""
        return _TABLE[self.value][2]

    @property
    def label_nl(self) -> str:
        """The Dutch label, lower case as it reads inside a sentence."""
        return _TABLE[self.value][3]


# The code a waiting list uses for a need whose care type is not determined yet; it
# becomes a `model.UnclassifiedNeed` (counted, never matched), never a care type.
UNCLASSIFIED_CODE = "NOG_NIET_BEPAALD"
UNCLASSIFIED_LABEL = "hulpvraag nog niet bepaald"


def care_type_label(care_type: CareType | str, *, capital: bool = False) -> str:
    """The one Dutch label of a care type, for sentences (lower case) or headings
    (`capital`).  An unknown code is shown as it is, so an old row still shows."""
    if isinstance(care_type, CareType):
        text = care_type.label_nl
    elif care_type == UNCLASSIFIED_CODE:
        text = UNCLASSIFIED_LABEL
    elif care_type in _TABLE:
        text = _TABLE[care_type][3]
    else:
        text = care_type
    return text[:1].upper() + text[1:] if capital else text


MAX_HOME_RANK = 5

assert set(_TABLE) == {c.value for c in CareType}
