"""Storage: models, migrations, all-or-nothing imports and scoped queries.

The web app uses only the names exported here.
"""

from providers.store.access import (
    AccessDenied,
    ChildView,
    ConflictError,
    NotFound,
    OfferingView,
    Principal,
    audit,
    audit_entries,
    get_child,
    get_offering,
    is_stale,
    offerings_for_edit,
    record_export,
    search_offerings,
    set_child_status,
    update_budget_spent,
    update_offering,
    waiting_list,
)
from providers.store.accounts import (
    authenticate,
    change_role,
    create_account,
    create_organisation,
    hash_password,
    principal_for,
)
from providers.store.aggregates import SMALL_CELL, Aggregate, AggregateRow, waiting_aggregates
from providers.store.dump import load_records
from providers.store.engine import (
    current_revision,
    database_url,
    make_engine,
    migrate,
    session_factory,
)
from providers.store.importer import ImportSummary, import_files, import_upload, write_validated
from providers.store.models import (
    Account,
    AuditAction,
    AuditEntry,
    ChildStatus,
    Organisation,
    OrganisationKind,
    Role,
)
from providers.store.retention import purge_case_data

__all__ = [
    "SMALL_CELL",
    "AccessDenied",
    "Account",
    "Aggregate",
    "AggregateRow",
    "AuditAction",
    "AuditEntry",
    "ChildStatus",
    "ChildView",
    "ConflictError",
    "ImportSummary",
    "NotFound",
    "OfferingView",
    "Organisation",
    "OrganisationKind",
    "Principal",
    "Role",
    "audit",
    "audit_entries",
    "authenticate",
    "change_role",
    "create_account",
    "create_organisation",
    "current_revision",
    "database_url",
    "get_child",
    "get_offering",
    "hash_password",
    "import_files",
    "import_upload",
    "is_stale",
    "load_records",
    "make_engine",
    "migrate",
    "offerings_for_edit",
    "principal_for",
    "purge_case_data",
    "record_export",
    "search_offerings",
    "session_factory",
    "set_child_status",
    "update_budget_spent",
    "update_offering",
    "waiting_aggregates",
    "waiting_list",
    "write_validated",
]
