"""One context object per view, rendered as HTML (Jinja2) or handed to the JSON API."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from pydantic import BaseModel

from matcher.domain.dates import date_text
from providers import reference
from providers.io.export import export_csv, export_xlsx
from wijzer.auth import Role, SessionUser, current_user
from wijzer.security import csrf_token

TEMPLATE_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    roles: frozenset[Role]


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("Zoeken", "/zoeken", frozenset({Role.VERWIJZER, Role.TAFEL, Role.BEHEER})),
    NavItem("Tafel", "/tafel", frozenset({Role.TAFEL, Role.BEHEER})),
    NavItem("Inkoop", "/inkoop", frozenset({Role.INKOOP, Role.BEHEER})),
    NavItem("Mijn aanbod", "/aanbieder", frozenset({Role.AANBIEDER, Role.BEHEER})),
    NavItem("Rapportage", "/rapportage", frozenset({Role.TAFEL, Role.INKOOP, Role.BEHEER})),
    NavItem("Casussen", "/casussen", frozenset({Role.VERWIJZER, Role.TAFEL, Role.BEHEER})),
    NavItem("Aanmeldingen", "/aanmeldingen", frozenset({Role.AANBIEDER, Role.BEHEER})),
    NavItem("Wachttijden", "/wachttijden", frozenset(Role)),
    NavItem("Meldingen", "/meldingen", frozenset(Role)),
    NavItem("Inlezen", "/inlezen", frozenset({Role.AANBIEDER, Role.TAFEL, Role.BEHEER})),
    NavItem("Beheer", "/beheer", frozenset({Role.BEHEER})),
)


def make_templates(*, reload: bool = False) -> Jinja2Templates:
    """`reload`: look at the template files on every page (Jinja's default), so an
    edited template shows without a restart. Off, each process reads them once: the
    checks cost about 5 % of a search page's processor time under load."""
    templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
    templates.env.auto_reload = reload
    templates.env.globals["nav_items"] = NAV_ITEMS
    templates.env.filters["nl_date"] = _nl_date
    templates.env.filters["euro"] = _euro
    templates.env.filters["count"] = _count
    templates.env.filters["region_name"] = _region_name
    templates.env.globals["select_options"] = select_options
    return templates


OPTION = Markup('<option value="{}">{}</option>\n')
SELECTED = Markup(" selected")


@lru_cache(maxsize=256)
def _options_html(options: tuple[tuple[object, object], ...]) -> tuple[Markup, dict[str, int]]:
    """The escaped <option> list, and where each value's tag closes (to mark it selected)."""
    parts = [OPTION.format(value, text) for value, text in options]
    at: dict[str, int] = {}
    size = 0
    for (value, _), part in zip(options, parts, strict=True):
        at.setdefault(str(value), size + part.index(">"))
        size += len(part)
    return Markup("").join(parts), at


def select_options(options: Sequence[tuple[object, object]], selected: object = "") -> Markup:
    """<option> elements for `options` (value, text), the one equal to `selected` marked.

    A select of every gemeente has some 340 options on each search page: escaping them
    once per list instead of once per page is most of the form's rendering time. The
    lists of the forms are tuples made once per process, so such a tuple is looked up as
    it is (copying and hashing 340 pairs per page was 2 % of a search)."""
    try:
        html, at = _options_html(options)
    except TypeError:  # not a tuple of tuples (unhashable): made into one
        html, at = _options_html(tuple((v, t) for v, t in options))
    pos = at.get(str(selected))
    return html if pos is None else html[:pos] + SELECTED + html[pos:]


def _region_name(code: str | None) -> str:
    """A jeugdregio's name instead of its code (the code itself if it is unknown)."""
    if not code:
        return ""
    region = reference.jeugdregios().get(code)
    return region.name if region else code


def _count(n: int, singular: str, plural: str) -> str:
    """ "1 plek", "2 plekken": the number with the right form of the word."""
    return f"{n} {singular if n == 1 else plural}"


def _nl_date(value: Any) -> str:
    """A date for people ("4 december 2026"); also a date a form sent back as ISO text
    ("2026-12-04"). Text that is no date stays as it is."""
    if value is None:
        return "onbekend"
    if isinstance(value, str):
        text: str = value
        try:
            return date_text(dt.date.fromisoformat(text.strip()))
        except ValueError:
            return text
    return date_text(value)


def _euro(cents: int | None) -> str:
    if cents is None:
        return "onbekend"
    whole, rest = divmod(int(cents), 100)
    return f"€ {whole:,}".replace(",", ".") + f",{rest:02d}"


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(
    request: Request,
    template: str,
    context: BaseModel | dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    user: SessionUser | None = None,
    extra: dict[str, Any] | None = None,
) -> HTMLResponse:
    """Render a page. An htmx request gets only the page's ``partial`` block."""
    templates: Jinja2Templates = request.app.state.templates
    values: dict[str, Any] = {
        "ctx": context,
        "user": user if user is not None else current_user(request),
        "csrf_token": csrf_token(request),
        "partial_only": is_htmx(request),
    }
    if extra:
        values.update(extra)
    response = templates.TemplateResponse(request, template, values, status_code=status_code)
    response.headers.append("Vary", "HX-Request")
    return response


def accepted(body: BaseModel, location: str) -> JSONResponse:
    """202 for a background job just started: its state now, and where to poll."""
    return JSONResponse(
        body.model_dump(mode="json"), status_code=202, headers={"Location": location}
    )


XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# one sheet of a download: its column names and rows
Sheet = tuple[Sequence[str], Sequence[Sequence[Any]]]


def download(name: str, fmt: str, sheets: Mapping[str, Sheet]) -> Response:
    """A CSV (the first sheet; Dutch Excel dialect with a BOM, so Excel reads
    it as UTF-8) or XLSX (every sheet) file as an attachment called `name`."""
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        columns, rows = next(iter(sheets.values()))
        text = io.StringIO()
        export_csv(columns, rows, text, dialect="excel-nl")
        return Response(
            "\ufeff" + text.getvalue(), media_type="text/csv; charset=utf-8", headers=headers
        )
    data = io.BytesIO()
    export_xlsx(dict(sheets), data)
    return Response(data.getvalue(), media_type=XLSX_MEDIA_TYPE, headers=headers)
