"""Forms of the referral loop: read what people typed, name the field of every problem.

Numbers go through `wijzer.forms.parse_int`; dates are ISO (the date field of the
browser) or dd-mm-jjjj as people type them.  Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from functools import cache

from pydantic import BaseModel, Field

from matcher.domain.caretypes import UNCLASSIFIED_CODE as UNCLASSIFIED
from matcher.domain.reasons import Reason
from providers import reference
from services import referrals as use_case
from wijzer.forms import FormErrors, has_nul, parse_int

_DMY = re.compile(r"([0-9]{1,2})-([0-9]{1,2})-([0-9]{4})")
_REF = re.compile(r"[A-Za-z0-9-]{3,40}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def parse_date(value: str | None) -> dt.date | None:
    """A date typed as 2026-11-20 (the browser's date field) or 20-11-2026."""
    text = (value or "").strip()
    try:
        if m := _DMY.fullmatch(text):
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        return dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def read_date(errors: FormErrors, field: str, value: str | None, label: str) -> dt.date | None:
    d = parse_date(value)
    if d is None:
        errors.add(field, f"Vul bij '{label}' een datum in, zoals 20-11-2026.")
    return d


@cache
def measure_options() -> tuple[tuple[str, str], ...]:
    return tuple((c, m.label) for c, m in reference.measures().items())


@cache
def need_options() -> tuple[tuple[str, str], ...]:
    cts = sorted(reference.care_types().items(), key=lambda kv: kv[1].label)
    return ((UNCLASSIFIED, use_case.UNCLASSIFIED_LABEL), *((c, i.label) for c, i in cts))


class CaseForm(BaseModel):
    kenmerk: str = ""
    geboortemaand: str = ""
    leeftijd: str = ""
    gemeente: str = ""
    maatregel: str = "OTS"
    uitspraakdatum: str = ""
    gi_datum: str = ""
    eerder_nodig: str = ""
    hulp: list[str] = Field(default_factory=list)
    kenmerken: list[str] = Field(default_factory=list)
    gezinswens: str = ""  # aanbieder_id; empty: no wish


def parse_case_form(values: Mapping[str, str], multi: Mapping[str, Sequence[str]]) -> CaseForm:
    return CaseForm(
        **{k: v for k, v in values.items() if k in CaseForm.model_fields and k not in multi},
        hulp=[x for x in multi.get("hulp", ()) if x != "-"],
        kenmerken=list(multi.get("kenmerken", ())),
    )


def _birth_month(form: CaseForm, today: dt.date, errors: FormErrors) -> str | None:
    if form.geboortemaand.strip():
        m = _MONTH.fullmatch(form.geboortemaand.strip())
        if m and 1 <= int(m.group(2)) <= 12 and m.group(1) <= f"{today.year}":
            return m.group(0)
        errors.add("geboortemaand", "Vul de geboortemaand in als jjjj-mm, zoals 2015-04.")
        return None
    age = parse_int(form.leeftijd, 0, 23)
    if age is None:
        errors.add("leeftijd", "Vul een geboortemaand in, of de leeftijd in hele jaren (0 tot 23).")
        return None
    # Only the age is known: take the month of today, age years ago (a month at most off).
    return f"{today.year - age:04d}-{today.month:02d}"


def check_case_form(
    form: CaseForm, today: dt.date, providers: Mapping[str, str] | None = None
) -> tuple[use_case.CaseInput | None, FormErrors]:
    """The case typed in, or what is wrong with it; `providers` (aanbieder_id -> name)
    are those a family may want to keep waiting at (None: not checked here)."""
    errors = FormErrors()
    values = [form.kenmerk, form.gemeente, form.gezinswens, *form.hulp, *form.kenmerken]
    if any(has_nul(v) for v in values):
        errors.add("kenmerk", "Het formulier bevat een teken dat niet is toegestaan.")
        return None, errors
    ref = form.kenmerk.strip() or None
    if ref is not None and not _REF.fullmatch(ref):
        errors.add(
            "kenmerk",
            "Een kenmerk heeft 3 tot 40 letters, cijfers of streepjes. Nooit een naam of BSN.",
        )
    if ref is not None and ref.isdigit() and len(ref) == 9:
        errors.add("kenmerk", "Dit lijkt op een BSN. Gebruik een eigen kenmerk zonder BSN.")
    birth = _birth_month(form, today, errors)
    if form.gemeente not in reference.gemeenten():
        errors.add("gemeente", "Kies de gemeente die betaalt.")
    if form.maatregel not in reference.measures():
        errors.add("maatregel", "Kies een maatregel uit de lijst.")
    ruling = read_date(errors, "uitspraakdatum", form.uitspraakdatum, "Datum uitspraak")
    if ruling is not None and ruling > today:
        errors.add("uitspraakdatum", "De datum van de uitspraak ligt in de toekomst.")
    gi = parse_date(form.gi_datum) if form.gi_datum.strip() else None
    if form.gi_datum.strip() and gi is None:
        errors.add("gi_datum", "Vul bij 'GI op de hoogte' een datum in, zoals 20-11-2026.")
    urgent = parse_date(form.eerder_nodig) if form.eerder_nodig.strip() else None
    if form.eerder_nodig.strip() and urgent is None:
        errors.add("eerder_nodig", "Vul bij 'Eerder nodig' een datum in, zoals 20-11-2026.")
    known = dict(need_options())
    if not form.hulp:
        errors.add("hulp", "Kies minstens één hulpvraag, of 'Nog niet bepaald'.")
    elif any(h not in known for h in form.hulp) or len(form.hulp) > 3:
        errors.add("hulp", "Kies hooguit drie hulpvragen uit de lijst.")
    attrs = reference.attributes()
    if any(k not in attrs for k in form.kenmerken):
        errors.add("kenmerken", "Kies de kenmerken uit de lijst.")
    wish = form.gezinswens.strip() or None
    if wish is not None and providers is not None and wish not in providers:
        errors.add("gezinswens", "Kies de aanbieder uit de lijst, of kies geen.")
    if errors or birth is None or ruling is None:
        return None, errors
    return (
        use_case.CaseInput(
            ref=ref,
            birth_month=birth,
            gemeente_code=form.gemeente,
            measure=form.maatregel,
            ruling_date=ruling,
            needs=tuple(form.hulp),
            attributes=tuple(form.kenmerken),
            gi_notified_date=gi,
            urgent_deadline=urgent,
            need_determined_date=today,
            family_prefers_provider=wish,
        ),
        errors,
    )


ANSWER_KINDS = ("accept", "decline", "intake", "start", "decline_after_intake")


def check_answer_form(
    aanmelding_id: int, values: Mapping[str, str], today: dt.date
) -> tuple[use_case.Answer | None, FormErrors]:
    errors = FormErrors()
    kind = values.get("antwoord", "")
    if kind not in ANSWER_KINDS:
        errors.add("antwoord", "Kies wat u wilt doen met deze aanmelding.")
        return None, errors
    if any(has_nul(v) for v in values.values()):
        errors.add("toelichting", "Het formulier bevat een teken dat niet is toegestaan.")
        return None, errors
    if kind == "accept":
        intake = read_date(errors, "intake", values.get("intake"), "Geplande intake")
        start = read_date(errors, "start", values.get("start"), "Geplande start")
        if errors:
            return None, errors
        return use_case.Answer(
            aanmelding_id, kind, today, planned_intake=intake, planned_start=start
        ), errors
    if kind in ("decline", "decline_after_intake"):
        code = values.get("reden", "")
        reason = Reason[code] if code in Reason.__members__ else None
        if reason is None:
            errors.add("reden", "Kies een reden uit de lijst.")
        text = values.get("toelichting", "").strip()
        if not text:
            errors.add("toelichting", "Schrijf in een paar woorden waarom.")
        if errors:
            return None, errors
        return use_case.Answer(aanmelding_id, kind, today, reason=reason, text=text), errors
    field = "intakedatum" if kind == "intake" else "startdatum"
    label = "Datum intake" if kind == "intake" else "Datum echte start"
    on = read_date(errors, field, values.get(field), label)
    if errors:
        return None, errors
    return use_case.Answer(aanmelding_id, kind, today, on=on), errors
