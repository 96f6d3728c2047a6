"""Use cases of the audit log and the import history: beheer searches and exports
the log; everyone who imports sees their earlier imports (beheer sees all).

The data layer (`providers.store.audit_log`) refuses the log to every role but
beheer and writes the export of the log to the log itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from providers.store import audit_log as store
from providers.store.access import Principal
from providers.store.audit_log import AuditFilter as AuditFilter
from providers.store.audit_log import AuditPage as AuditPage
from providers.store.audit_log import AuditRow as AuditRow
from providers.store.audit_log import BatchRow as BatchRow
from providers.store.models import AuditAction as AuditAction

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def search_audit(
    session: Session, principal: Principal, f: AuditFilter, *, page: int, per_page: int
) -> AuditPage:
    """One page of the entries that match `f`, newest first."""
    return store.search_audit(session, principal, f, page=page, per_page=per_page)


def audit_actors(session: Session, principal: Principal) -> list[str]:
    """The usernames that occur in the log, for the filter's choice list."""
    return store.audit_actors(session, principal)


def export_audit(session: Session, principal: Principal, f: AuditFilter) -> list[AuditRow]:
    """Every matching entry for a download; the download itself is logged. The
    caller commits."""
    return store.export_audit(session, principal, f)


def import_batches(session: Session, principal: Principal) -> list[BatchRow]:
    """Earlier imports, newest first: beheer sees all, anyone else only their own."""
    return store.import_batches(session, principal)
