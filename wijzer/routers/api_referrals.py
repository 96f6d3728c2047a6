"""The referral loop in the JSON API (/api/v1): the same use cases as the pages.

docs/referrals.md maps the fields to the iJw messages JW315 (request for
allocation) and JW316 (its answer).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
)
from sqlalchemy.orm import Session

from matcher.domain import CareType
from matcher.domain.caretypes import UNCLASSIFIED_CODE
from matcher.domain.reasons import Reason
from providers import reference
from services import meldingen
from services import referrals as use_case
from services.errors import AccessDenied, DuplicateCase, NotFound, StatusConflict
from wijzer.auth import Role, SessionUser, require_roles
from wijzer.deps import DbSession
from wijzer.forms import DB_INT_MAX, DB_INT_MIN, IsoDate, json_whole_number
from wijzer.mail import send_meldingen
from wijzer.routers import api
from wijzer.routers.api import ErrorDetail, error
from wijzer.settings import Settings

# The same prefix and documented error answers (400, 401, 403) as the rest of the API.
router = APIRouter(prefix="/api/v1", tags=["verwijslus"], responses=api.router.responses)
CaseRoles = Annotated[SessionUser, Depends(require_roles(Role.VERWIJZER, Role.TAFEL, Role.BEHEER))]
Owner = Annotated[SessionUser, Depends(require_roles(Role.VERWIJZER, Role.BEHEER))]
Provider = Annotated[SessionUser, Depends(require_roles(Role.AANBIEDER, Role.BEHEER))]
Anyone = Annotated[SessionUser, Depends(require_roles(*Role))]
Id = Annotated[int, Path(ge=1, le=DB_INT_MAX)]
Ref = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
DbInt = Annotated[int, Field(strict=True, ge=DB_INT_MIN, le=DB_INT_MAX)]
# A JSON integer may be written 5.0; booleans and text stay refused (strict).
Whole = BeforeValidator(json_whole_number)
ROW_ID_MAX = 2_147_483_647  # a row id is a 32-bit integer on every backend
Code = Annotated[str, StringConstraints(max_length=60, pattern=r"^[A-Z0-9_]*$")]


def _one_of(values: list[str]) -> Any:
    enum: list[JsonValue] = list(values)
    return Field(json_schema_extra={"enum": enum})


# the care types a need may name, and the code of a need not classified yet
NEED_CODES = sorted([*(c.value for c in CareType), UNCLASSIFIED_CODE])
Answers = dict[int | str, dict[str, Any]]
NOT_FOUND: Answers = {404: {"model": ErrorDetail, "description": "Niet gevonden of niet van u"}}
INVALID: Answers = {
    422: {"description": "Fouten in de invoer, of een regel van de verwijslus geschonden"}
}
CONFLICT: Answers = {409: {"model": ErrorDetail, "description": "Iemand anders was u voor"}}

# How a refusal of the loop answers, first match wins: a duplicate ref (a kind of
# ReferralError) and a changed status are conflicts, a case or aanmelding that does
# not exist or is not the caller's is "not found" (no probing), a bad value is 422.
REFUSAL_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (DuplicateCase, 409),
    (StatusConflict, 409),
    (NotFound, 404),
    (AccessDenied, 404),
    (use_case.ReferralError, 422),
)


def refused(db: Session, exc: Exception) -> JSONResponse:
    """Undo the request's writes and answer the refusal in the API's error shape."""
    db.rollback()
    status = next(code for kind, code in REFUSAL_STATUS if isinstance(exc, kind))
    message = getattr(exc, "user_message", "Dit kan niet.")
    return error(status, str(message))


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


class CaseIn(BaseModel):
    """A new case (JW315: the client and the requested help); never a name or BSN."""

    model_config = ConfigDict(extra="forbid")

    ref: (
        Annotated[str, StringConstraints(min_length=3, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
        | None
    ) = None
    birth_month: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")] = Field(
        description="Jaar en maand; het kind is jonger dan 23 jaar en niet in de toekomst geboren"
    )
    gemeente: Annotated[str, _one_of(sorted(reference.gemeenten()))]
    measure: Annotated[str, _one_of(sorted(reference.measures()))]
    ruling_date: IsoDate = Field(description="Niet na vandaag")
    needs: list[Annotated[str, _one_of(NEED_CODES)]] = Field(
        min_length=1, max_length=3, description="NOG_NIET_BEPAALD = hulpvraag nog niet bepaald"
    )
    attributes: list[Annotated[str, _one_of(sorted(reference.attributes()))]] = Field(
        default_factory=list, max_length=30
    )
    gi_notified_date: IsoDate | None = None
    urgent_deadline: IsoDate | None = None


class CaseCreated(BaseModel):
    ref: str


class AanmeldingIn(BaseModel):
    """JW315: ask an offering for a place for one need of a case."""

    model_config = ConfigDict(extra="forbid")

    ref: Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
    need_id: Annotated[int, Whole] = Field(strict=True, ge=1, le=ROW_ID_MAX)
    offering_id: Annotated[int, Whole] = Field(strict=True, ge=1, le=ROW_ID_MAX)
    search_context: Annotated[str, StringConstraints(max_length=2000)] = ""

    def place_request(self, settings: Settings) -> use_case.PlaceRequest:
        """The use case's request, dated today with the configured answer term."""
        return use_case.PlaceRequest(
            ref=self.ref,
            need_id=self.need_id,
            offering_id=self.offering_id,
            context=self.search_context,
            today=settings.current_date(),
            answer_days=settings.referral_answer_days,
        )


class AanmeldingCreated(BaseModel):
    id: int


class AnswerKind(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    INTAKE = "intake"
    START = "start"
    DECLINE_AFTER_INTAKE = "decline_after_intake"


class AnswerIn(BaseModel):
    """JW316: the provider's answer, and later the intake and the real start."""

    model_config = ConfigDict(extra="forbid")

    kind: AnswerKind
    planned_intake: IsoDate | None = None
    planned_start: IsoDate | None = None
    on: IsoDate | None = Field(default=None, description="date of the intake or the real start")
    reason: Annotated[str, _one_of(sorted(Reason.__members__))] | None = Field(
        default=None, description="a reason of the catalogue (WJ759)"
    )
    text: Annotated[str, StringConstraints(max_length=400)] = ""


class Done(BaseModel):
    status: str


@router.get("/casussen", response_model=list[use_case.CaseRow], summary="Casussen in uw bereik")
def list_cases(request: Request, user: CaseRoles, db: DbSession) -> list[use_case.CaseRow]:
    rows = use_case.case_list(db, user, today=_settings(request).current_date())
    db.commit()
    return rows


@router.post(
    "/casussen",
    status_code=201,
    response_model=CaseCreated,
    responses={**INVALID, 409: {"model": ErrorDetail, "description": "Dit kenmerk bestaat al"}},
    summary="Een nieuwe casus",
)
def create_case(
    request: Request, user: Owner, db: DbSession, body: CaseIn
) -> CaseCreated | JSONResponse:
    today = _settings(request).current_date()
    case = use_case.CaseInput(
        ref=body.ref,
        birth_month=body.birth_month,
        gemeente_code=body.gemeente,
        measure=body.measure,
        ruling_date=body.ruling_date,
        needs=tuple(body.needs),
        attributes=tuple(body.attributes),
        gi_notified_date=body.gi_notified_date,
        urgent_deadline=body.urgent_deadline,
        need_determined_date=today,
    )
    if int(body.birth_month[:4]) > today.year:
        return error(422, "De geboortemaand ligt in de toekomst.")
    try:
        ref = use_case.register_case(db, user, case, today=today)
    except (DuplicateCase, use_case.ReferralError) as exc:
        return refused(db, exc)
    db.commit()
    return CaseCreated(ref=ref)


@router.get(
    "/casussen/{ref}",
    response_model=use_case.CasePage,
    responses=NOT_FOUND,
    summary="Een casus met de normklok, de aanmeldingen en de geschiedenis",
)
def get_case(
    request: Request, user: CaseRoles, db: DbSession, ref: Ref
) -> use_case.CasePage | JSONResponse:
    try:
        page = use_case.case_page(db, user, ref, today=_settings(request).current_date())
    except NotFound as exc:
        return refused(db, exc)
    db.commit()
    return page


@router.post(
    "/aanmeldingen",
    status_code=201,
    response_model=AanmeldingCreated,
    responses={**NOT_FOUND, **INVALID},
    summary="Aanmelden bij een aanbod (JW315)",
)
def request_place(
    request: Request, user: CaseRoles, db: DbSession, body: AanmeldingIn
) -> AanmeldingCreated | JSONResponse:
    try:
        aid = use_case.request_place(db, user, body.place_request(_settings(request)))
    except (NotFound, use_case.ReferralError) as exc:
        return refused(db, exc)
    db.commit()
    send_meldingen(request)
    return AanmeldingCreated(id=aid)


class ProposalIn(BaseModel):
    """A tafel proposal: several children at once, one offering each."""

    model_config = ConfigDict(extra="forbid")

    items: list[AanmeldingIn] = Field(min_length=1, max_length=50)


class ProposalCreated(BaseModel):
    ids: list[int]


@router.post(
    "/aanmeldingen/voorstel",
    status_code=201,
    response_model=ProposalCreated,
    responses={**NOT_FOUND, **INVALID},
    summary="Aanmelden voor meerdere kinderen tegelijk, één aanbod per kind (alles of niets)",
)
def request_places(
    request: Request, user: CaseRoles, db: DbSession, body: ProposalIn
) -> ProposalCreated | JSONResponse:
    settings = _settings(request)
    batch = tuple(i.place_request(settings) for i in body.items)
    try:
        ids = use_case.request_places(db, user, batch)
    except (NotFound, use_case.ReferralError) as exc:
        return refused(db, exc)
    db.commit()
    send_meldingen(request)
    return ProposalCreated(ids=ids)


@router.get(
    "/aanmeldingen",
    response_model=list[use_case.InboxLine],
    summary="Aanmeldingen voor uw eigen aanbod",
)
def provider_inbox(request: Request, user: Provider, db: DbSession) -> list[use_case.InboxLine]:
    lines = use_case.provider_inbox(db, user, today=_settings(request).current_date())
    db.commit()
    return lines


@router.get(
    "/aanmeldingen/{aanmelding_id}",
    response_model=use_case.InboxLine,
    responses=NOT_FOUND,
    summary="Eén aanmelding voor uw aanbod, met de geschiedenis",
)
def provider_aanmelding(
    request: Request, user: Provider, db: DbSession, aanmelding_id: Id
) -> use_case.InboxLine | JSONResponse:
    try:
        line = use_case.provider_aanmelding(
            db, user, aanmelding_id, today=_settings(request).current_date()
        )
    except (NotFound, AccessDenied) as exc:
        return refused(db, exc)
    db.commit()
    return line


@router.post(
    "/aanmeldingen/{aanmelding_id}/antwoord",
    response_model=Done,
    responses={**NOT_FOUND, **INVALID, **CONFLICT},
    summary="Antwoord, intake of echte start (JW316)",
)
def answer(
    request: Request, user: Provider, db: DbSession, aanmelding_id: Id, body: AnswerIn
) -> Done | JSONResponse:
    code = body.reason or ""
    reason = Reason[code] if code in Reason.__members__ else None
    if body.reason and reason is None:
        return error(422, "Kies een reden uit de lijst.")
    parsed = use_case.Answer(
        aanmelding_id,
        body.kind.value,
        _settings(request).current_date(),
        planned_intake=body.planned_intake,
        planned_start=body.planned_start,
        on=body.on,
        reason=reason,
        text=body.text,
    )
    try:
        use_case.answer(db, user, parsed)
    except (NotFound, AccessDenied, use_case.ReferralError, StatusConflict) as exc:
        return refused(db, exc)
    db.commit()
    send_meldingen(request)
    return Done(status=body.kind.value)


@router.post(
    "/aanmeldingen/{aanmelding_id}/beeindigen",
    response_model=Done,
    responses={**NOT_FOUND, **INVALID, **CONFLICT},
    summary="Intrekken (voor het antwoord) of afmelden (na een ja)",
)
def withdraw(
    request: Request, user: CaseRoles, db: DbSession, aanmelding_id: Id
) -> Done | JSONResponse:
    try:
        use_case.withdraw(db, user, aanmelding_id, today=_settings(request).current_date())
    except (NotFound, AccessDenied, use_case.ReferralError, StatusConflict) as exc:
        return refused(db, exc)
    db.commit()
    send_meldingen(request)
    return Done(status="beeindigd")


@router.get(
    "/wachttijden",
    response_model=list[use_case.MeasuredWaitLine],
    summary="Gemeten wachttijd per aanbod naast de eigen opgave",
)
def measured_waits(
    request: Request, user: Anyone, db: DbSession
) -> list[use_case.MeasuredWaitLine]:
    settings = _settings(request)
    return use_case.wait_overview(
        db, user, today=settings.current_date(), margin=settings.wait_margin_days
    )


@router.get(
    "/meldingen",
    response_model=list[meldingen.MeldingView],
    summary="De meldingen van uw organisatie",
)
def notices(user: Anyone, db: DbSession) -> list[meldingen.MeldingView]:
    return meldingen.inbox(db, user)
