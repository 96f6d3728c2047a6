"""Beheer: the audit log viewer, accounts and roles, and the own password form."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from urllib.parse import urlencode

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from providers import reference
from services import accounts
from services.accounts import OrganisationKind
from services.audit import AuditAction, AuditFilter, AuditRow, audit_actors, search_audit
from services.principal import Role
from wijzer.auth import ROLE_LABELS, SessionUser
from wijzer.forms import DB_INT_MAX, FormErrors, parse_int

PER_PAGE = 50
ACTION_LABELS: dict[str, str] = {
    AuditAction.READ.value: "Lezen",
    AuditAction.WRITE.value: "Schrijven",
    AuditAction.EXPORT.value: "Export",
    AuditAction.IMPORT.value: "Inlezen",
    AuditAction.DELETE.value: "Verwijderen",
}
# Refs are shown in the table up to this length; the CSV export
# (services.frames.audit_frame) has them all.
SHOWN_REFS_CHARS = 300


class AuditForm(BaseModel):
    gebruiker: str = ""
    rol: str = ""
    ref: str = ""
    actie: str = ""
    van: str = ""
    tot: str = ""


class AuditItem(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    role: str
    action: str
    entity: str
    record_count: int
    refs: str
    refs_cut: bool
    detail: str


class AuditContext(BaseModel):
    form: AuditForm
    errors: FormErrors = Field(default_factory=FormErrors)
    actors: list[str]
    roles: list[tuple[str, str]]
    actions: list[tuple[str, str]]
    rows: list[AuditItem]
    total: int
    page: int
    pages: int
    query: str  # the filter as a query string, for the pager and the export


def _date(errors: FormErrors, field: str, text: str) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        errors.add(field, "Vul een datum in als jjjj-mm-dd, bijvoorbeeld 2026-11-01.")
        return None


def audit_filter(values: Mapping[str, str]) -> tuple[AuditForm, AuditFilter, FormErrors]:
    """The filter from the query string; an invalid value is reported, not guessed."""
    form = AuditForm(**{k: values.get(k, "")[:100] for k in AuditForm.model_fields})
    errors = FormErrors()
    role = form.rol if form.rol in {r.value for r in Role} else ""
    if form.rol and not role:
        errors.add("rol", "Kies een rol uit de lijst.")
    action = form.actie if form.actie in ACTION_LABELS else ""
    if form.actie and not action:
        errors.add("actie", "Kies een actie uit de lijst.")
    since = _date(errors, "van", form.van)
    until = _date(errors, "tot", form.tot)
    if since and until and since > until:
        errors.add("tot", "De einddatum ligt voor de begindatum.")
    f = AuditFilter(
        actor=form.gebruiker.strip(),
        role=role,
        ref=form.ref.strip(),
        action=action,
        since=since,
        until=until,
    )
    return form, f, errors


def _item(r: AuditRow) -> AuditItem:
    return AuditItem(
        id=r.id,
        at=r.at,
        actor=r.actor,
        role=ROLE_LABELS.get(Role(r.role), r.role) if r.role in {x.value for x in Role} else r.role,
        action=ACTION_LABELS.get(r.action, r.action),
        entity=r.entity,
        record_count=r.record_count,
        refs=r.record_refs[:SHOWN_REFS_CHARS].replace(",", ", "),
        refs_cut=len(r.record_refs) > SHOWN_REFS_CHARS,
        detail=r.detail,
    )


def audit_page(session: Session, user: SessionUser, values: Mapping[str, str]) -> AuditContext:
    form, f, errors = audit_filter(values)
    page = parse_int(values.get("pagina"), 1, DB_INT_MAX) or 1
    result = search_audit(session, user, f, page=page, per_page=PER_PAGE)
    query = urlencode({k: v for k, v in form.model_dump().items() if v})
    return AuditContext(
        form=form,
        errors=errors,
        actors=audit_actors(session, user),
        roles=[(r.value, ROLE_LABELS[r]) for r in Role],
        actions=list(ACTION_LABELS.items()),
        rows=[_item(r) for r in result.rows],
        total=result.total,
        page=result.page,
        pages=result.pages,
        query=query,
    )


class AccountItem(BaseModel):
    id: int
    username: str
    role: str
    organisation: str
    active: bool
    last_login_at: dt.datetime | None


class AccountForm(BaseModel):
    gebruikersnaam: str = ""
    rol: str = ""
    organisatie: str = ""


class OrganisationForm(BaseModel):
    org_naam: str = ""
    org_soort: str = ""
    org_regio: str = ""
    org_aanbieder: str = ""


KIND_LABELS: dict[str, str] = {
    OrganisationKind.GI.value: "Gecertificeerde instelling",
    OrganisationKind.LOKAAL_TEAM.value: "Lokaal team",
    OrganisationKind.AANBIEDER.value: "Aanbieder",
    OrganisationKind.GEMEENTE.value: "Gemeente",
    OrganisationKind.REGIO.value: "Regio (tafel of inkoop)",
    OrganisationKind.BEHEER.value: "Beheer",
}


class AccountsContext(BaseModel):
    accounts: list[AccountItem]
    roles: list[tuple[str, str]]
    organisations: list[tuple[str, str]]
    kinds: list[tuple[str, str]] = Field(default_factory=lambda: list(KIND_LABELS.items()))
    regions: list[tuple[str, str]] = Field(default_factory=list)
    providers: list[tuple[str, str]] = Field(default_factory=list)
    form: AccountForm = Field(default_factory=AccountForm)
    errors: FormErrors = Field(default_factory=FormErrors)
    org_form: OrganisationForm = Field(default_factory=OrganisationForm)
    org_errors: FormErrors = Field(default_factory=FormErrors)
    # Shown once, right after it was made: the account and its one-time password.
    new_password_for: str = ""
    new_password: str = ""
    done: str = ""


def _org_label(o: accounts.OrganisationRow) -> str:
    extra = [x for x in (o.region_code,) if x]
    return o.name + (f" ({', '.join(extra)})" if extra else "")


def accounts_page(session: Session, user: SessionUser, **kw: object) -> AccountsContext:
    return AccountsContext(
        accounts=[
            AccountItem(
                id=a.id,
                username=a.username,
                role=ROLE_LABELS[a.role],
                organisation=a.organisation_name,
                active=a.active,
                last_login_at=a.last_login_at,
            )
            for a in accounts.list_accounts(session, user)
        ],
        roles=[(r.value, ROLE_LABELS[r]) for r in Role],
        organisations=[
            (str(o.id), _org_label(o)) for o in accounts.list_organisations(session, user)
        ],
        regions=sorted(
            ((code, f"{r.name} ({code})") for code, r in reference.jeugdregios().items()),
            key=lambda x: x[1],
        ),
        providers=[(str(i), n) for i, n in accounts.provider_choices(session, user)],
        **kw,  # type: ignore[arg-type]
    )


def check_account_form(form: AccountForm) -> tuple[Role | None, int | None, FormErrors]:
    errors = FormErrors()
    if not form.gebruikersnaam.strip():
        errors.add("gebruikersnaam", "Vul een gebruikersnaam in.")
    role = Role(form.rol) if form.rol in {r.value for r in Role} else None
    if role is None:
        errors.add("rol", "Kies een rol.")
    org = parse_int(form.organisatie, 1, DB_INT_MAX)
    if org is None:
        errors.add("organisatie", "Kies een organisatie.")
    return role, org, errors


def check_organisation_form(
    form: OrganisationForm,
) -> tuple[OrganisationKind | None, str | None, int | None, FormErrors]:
    errors = FormErrors()
    if not form.org_naam.strip():
        errors.add("org_naam", "Vul de naam van de organisatie in.")
    kind = OrganisationKind(form.org_soort) if form.org_soort in KIND_LABELS else None
    if kind is None:
        errors.add("org_soort", "Kies wat voor organisatie het is.")
    region = form.org_regio.strip() or None
    provider = None
    if form.org_aanbieder.strip():
        provider = parse_int(form.org_aanbieder, 1, DB_INT_MAX)
        if provider is None:
            errors.add("org_aanbieder", "Kies een aanbieder uit de lijst.")
    return kind, region, provider, errors


class PasswordContext(BaseModel):
    errors: FormErrors = Field(default_factory=FormErrors)
    done: bool = False
    min_length: int = accounts.MIN_PASSWORD_LENGTH


def check_password_form(current: str, new: str, again: str) -> FormErrors:
    errors = FormErrors()
    if not current:
        errors.add("huidig", "Vul uw huidige wachtwoord in.")
    if not new:
        errors.add("nieuw", "Vul een nieuw wachtwoord in.")
    elif new != again:
        errors.add("nogmaals", "De twee nieuwe wachtwoorden zijn niet gelijk.")
    return errors
