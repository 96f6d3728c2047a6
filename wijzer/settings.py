"""Typed settings for the wijzer, read from the environment (prefix WIJZER_)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.notify import MailSettings


class Settings(BaseSettings):
    """Everything the app needs to start; nothing is read from module-level globals."""

    model_config = SettingsConfigDict(env_prefix="WIJZER_", extra="ignore")

    database_url: str = "sqlite:///var/wijzer.sqlite3"
    # Without a configured key every process gets a fresh random key, so sessions
    # do not survive a restart. That is the safe default for a demo.
    secret_key: SecretStr | None = None
    session_max_age_s: int = Field(default=8 * 3600, ge=60)
    # Only send the session cookie over HTTPS; switch on behind TLS.
    https_only_cookies: bool = False
    login_max_failures: int = Field(default=5, ge=1)
    login_window_s: int = Field(default=15 * 60, ge=1)
    # A provider's figure older than this is marked as stale in the search results.
    stale_after_days: int = Field(default=14, ge=1)
    # Seconds a table run may spend searching the smallest change that would place
    # each unplaced child; the reasons per offering are always given.
    explain_budget_s: float = Field(default=2.5, ge=0.0, le=60.0)
    # How many of the first search results get a simulated start forecast (0: none).
    search_forecast_rows: int = Field(default=5, ge=0, le=100)
    # Fill the search cache (offerings and start forecasts) in a background thread at
    # start-up; switch on in production (each server process warms its own cache).
    search_warm: bool = False
    # Searches one server process works on at once (its search lane); the others wait
    # their turn. A search is processor work under one interpreter lock, but it also
    # waits for the database and for the event loop to take its page: a second search
    # uses those waits, more only switch (wijzer.routers.zoeken.in_search_lane).
    search_concurrency: int = Field(default=2, ge=1, le=64)
    # Fix "today" for demonstrations and tests; empty means the real date.
    today: dt.date | None = None
    # Longest query string the app reads; a longer one gets 414 (the search with every
    # field filled in stays far below this).
    max_query_bytes: int = Field(default=8 * 1024, ge=256)
    # Largest request body; a larger one gets 413 before it is read.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Background jobs: a local process pool by default ("thread" runs them in this
    # process); with a Dask scheduler address ("tcp://host:8786") they run on that
    # cluster, the same one the sweeps use, so more work means more workers.
    jobs_executor: Literal["process", "thread"] = "process"
    jobs_workers: int = Field(default=2, ge=1, le=64)
    dask_scheduler: str | None = None
    # Per user: jobs waiting or running at once, and jobs kept (the oldest finished
    # ones are removed first).
    jobs_max_active: int = Field(default=3, ge=1, le=100)
    jobs_max_stored: int = Field(default=50, ge=5, le=10_000)
    debug: bool = False
    # Read a template again when its file changed (for whoever edits them); off, a
    # page costs no file checks.
    reload_templates: bool = False
    # Working days a provider has to answer an aanmelding (iJw: the answer term).
    referral_answer_days: int = Field(default=5, ge=1, le=30)
    # A provider's own wait that differs from the measured median by more days than
    # this is marked beside the measured wait.
    wait_margin_days: int = Field(default=14, ge=0, le=365)
    # Meldingen also go out by e-mail when an SMTP host is set (no login, no TLS:
    # a relay on the same network).
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    mail_from: str = "wijzer@localhost"
    # Minutes between two checks for aanmeldingen past their answer term (with their
    # meldingen and e-mail), run in the background by each server; 0 switches it off
    # (then run `python -m wijzer check-termijnen` from cron).
    overdue_check_minutes: float = Field(default=15, ge=0, le=24 * 60)
    # The address people use to reach the wijzer, for links in e-mails sent without a
    # request at hand (the scheduled check); empty: links without a host.
    public_url: str = ""

    def mail_settings(self, base_url: str | None = None) -> MailSettings | None:
        """How meldingen go by e-mail, or None without an SMTP host."""
        if not self.smtp_host:
            return None
        return MailSettings(
            host=self.smtp_host,
            port=self.smtp_port,
            sender=self.mail_from,
            base_url=(self.public_url if base_url is None else base_url).rstrip("/"),
        )

    def current_date(self) -> dt.date:
        return self.today or dt.date.today()
