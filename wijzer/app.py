"""The application factory."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import threading
from http import HTTPStatus
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from providers.store.access import Principal
from services.notify import check_answer_terms
from services.search import warm_cache
from services.search_cache import SearchCache
from wijzer.auth import (
    AccountDirectory,
    DatabaseAccountDirectory,
    LoginRateLimiter,
    NotAllowedError,
    NotAuthenticatedError,
)
from wijzer.deps import engine_for, sessions_for
from wijzer.jobs import JobRunner
from wijzer.limits import TOO_LONG_URL, LimitsMiddleware
from wijzer.logs import AccessLogMiddleware, security_log
from wijzer.rendering import make_templates, render
from wijzer.routers import ROUTERS
from wijzer.security import SERVER_ERROR, CsrfError, SecurityHeadersMiddleware, csrf_protect
from wijzer.settings import Settings

STATIC_DIR = Path(__file__).parent / "static"
log = logging.getLogger("wijzer")


def _wants_json(request: Request) -> bool:
    # the open data feed answers in JSON as the API does, errors included
    return request.url.path.startswith(("/api/", "/open/"))


def create_app(
    settings: Settings | None = None,
    *,
    accounts: AccountDirectory | None = None,
) -> FastAPI:
    """Build a new, independent app; all state hangs off ``app.state``."""
    settings = settings or Settings()
    app = FastAPI(
        title="Beschikbaarheidswijzer",
        version="0.1.0",
        description="JSON API van de beschikbaarheidswijzer. Alle routes vragen een sessie.",
        openapi_url="/api/v1/openapi.json",
        # Swagger UI needs an inline script and a CDN, which the CSP forbids;
        # the OpenAPI document itself is served.
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(csrf_protect)],
    )
    app.state.settings = settings
    app.state.templates = make_templates(reload=settings.reload_templates)
    app.state.engine = engine_for(settings)
    app.state.sessions = sessions_for(app.state.engine)
    app.state.accounts = (
        accounts if accounts is not None else DatabaseAccountDirectory(app.state.sessions)
    )
    # Offerings, purchase data and forecasts for the search, rebuilt when the data changes.
    app.state.search_cache = SearchCache(settings.stale_after_days)
    app.state.jobs = JobRunner(
        app.state.sessions,
        settings.database_url,
        executor=settings.jobs_executor,
        workers=settings.jobs_workers,
        dask_scheduler=settings.dask_scheduler,
        max_active=settings.jobs_max_active,
        max_stored=settings.jobs_max_stored,
    )
    app.router.add_event_handler("startup", app.state.jobs.interrupt_unfinished)
    app.router.add_event_handler("shutdown", app.state.jobs.shutdown)
    if settings.search_warm:
        app.router.add_event_handler("startup", lambda: _start_warming(app))
    if settings.overdue_check_minutes > 0:
        app.router.add_event_handler("startup", functools.partial(_start_term_checks, app))
        app.router.add_event_handler("shutdown", functools.partial(_stop_term_checks, app))
    app.state.login_limiter = LoginRateLimiter(settings.login_max_failures, settings.login_window_s)

    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    if not secret:
        log.warning("WIJZER_SECRET_KEY is not set: sessions end when the server stops")
        secret = secrets.token_urlsafe(48)
    # Order (innermost first): limits, then the access log, both inside the session so
    # they see the user; the headers middleware is outermost so even session errors
    # carry the headers.
    app.add_middleware(
        LimitsMiddleware,
        max_query_bytes=settings.max_query_bytes,
        max_body_bytes=settings.max_body_bytes,
    )
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="wijzer_sessie",
        max_age=settings.session_max_age_s,
        same_site="strict",
        https_only=settings.https_only_cookies,
    )
    app.add_middleware(SecurityHeadersMiddleware)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(NotAuthenticatedError)
    async def _not_authenticated(request: Request, exc: NotAuthenticatedError) -> Response:
        if _wants_json(request):
            return _api_error(401, "U bent niet ingelogd.")
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        response = RedirectResponse(f"/inloggen?volgende={_quote(target)}", status_code=303)
        return response

    @app.exception_handler(NotAllowedError)
    async def _not_allowed(request: Request, exc: NotAllowedError) -> Response:
        _log_refused("access refused", request)
        message = "U mag deze pagina niet gebruiken met uw rol."
        return _error_page(request, 403, "Geen toegang", message)

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, exc: CsrfError) -> Response:
        _log_refused("csrf token missing or wrong", request)
        message = (
            "Het formulier is verlopen of niet geldig. Laad de pagina opnieuw en probeer het "
            "nog een keer."
        )
        return _error_page(request, 403, "Formulier verlopen", message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        message = "De gegevens in uw verzoek kloppen niet."
        if _wants_json(request):
            # The shape FastAPI documents for 422 (loc, msg, type), with a B1 message.
            detail = [
                {"loc": list(e.get("loc", ())), "msg": message, "type": str(e.get("type", ""))}
                for e in exc.errors()
            ]
            return JSONResponse({"detail": detail, "message": message}, status_code=422)
        return _error_page(request, 404, "Niet gevonden", message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        fallback = ERRORS[500 if exc.status_code >= 500 else 400]
        title, message = ERRORS.get(exc.status_code, fallback)
        detail = exc.detail if isinstance(exc.detail, str) else ""
        # Our own routes raise with a Dutch detail; the framework's is the English phrase.
        # A 400 comes only from the framework (a body it cannot parse), in English.
        ours = exc.status_code != 400 and detail != _phrase(exc.status_code)
        if detail and ours:
            message = detail
        response = _error_page(request, exc.status_code, title, message)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    return app


# Title and message per status, for errors raised without a Dutch text of their own.
ERRORS: dict[int, tuple[str, str]] = {
    400: (
        "Verzoek niet leesbaar",
        "Uw verzoek kon niet worden gelezen. Controleer de gegevens en probeer het opnieuw.",
    ),
    401: ("Niet ingelogd", "U bent niet ingelogd."),
    403: ("Geen toegang", "U mag deze pagina niet gebruiken met uw rol."),
    404: ("Niet gevonden", "Deze pagina bestaat niet."),
    405: ("Kan niet", "Dit kan niet op deze pagina. Ga terug en gebruik de knoppen op de pagina."),
    409: ("Gewijzigd", "Iemand anders heeft dit intussen gewijzigd. Laad de pagina opnieuw."),
    413: ("Te veel gegevens", "U stuurt te veel gegevens in één keer. Maak het kleiner."),
    414: ("Adres te lang", TOO_LONG_URL),
    422: ("Gegevens kloppen niet", "De gegevens in uw verzoek kloppen niet."),
    429: (
        "Even wachten",
        "U doet te veel verzoeken achter elkaar. Wacht even en probeer het opnieuw.",
    ),
    500: ("Er ging iets mis", SERVER_ERROR),
}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _api_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message, "message": message}, status_code=status)


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    """One error answer for both audiences: JSON for the API, a B1 page for people."""
    if _wants_json(request):
        return _api_error(status, message)
    return render(
        request, "errors/error.html", {"title": title, "message": message}, status_code=status
    )


def _log_refused(what: str, request: Request) -> None:
    security_log.warning(
        "%s: user=%r %s %s", what, request.session.get("user"), request.method, request.url.path
    )


def _start_warming(app: FastAPI) -> None:
    settings: Settings = app.state.settings

    def work() -> None:
        try:
            n = warm_cache(
                app.state.sessions,
                app.state.search_cache,
                Principal.system("zoeken-voorbereiden"),
                today=settings.current_date(),
            )
            log.info("search cache warmed: %d offerings", n)
        except Exception:  # a cold cache is slower, not wrong
            log.exception("warming the search cache failed")

    threading.Thread(target=work, name="search-warm", daemon=True).start()


def _start_term_checks(app: FastAPI) -> None:
    """Flag answers past their term (and mail the meldingen) every
    WIJZER_OVERDUE_CHECK_MINUTES, without anyone opening a page.  Every server runs
    its own; the store adds and mails each melding once, whoever runs first."""
    settings: Settings = app.state.settings

    async def run() -> None:
        while True:
            await asyncio.sleep(settings.overdue_check_minutes * 60)
            try:
                done = await asyncio.to_thread(
                    check_answer_terms,
                    app.state.sessions,
                    today=settings.current_date(),
                    mail=settings.mail_settings(),
                )
                if done.flagged or done.mailed:
                    log.info("answer terms: %d flagged, %d mailed", done.flagged, done.mailed)
            except Exception:  # the next round tries again; the server keeps running
                log.exception("checking answer terms failed")

    app.state.term_checks = asyncio.get_running_loop().create_task(run(), name="termijnen")


async def _stop_term_checks(app: FastAPI) -> None:
    task: asyncio.Task[None] | None = getattr(app.state, "term_checks", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")
