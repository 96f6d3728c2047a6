"""One error base per package; the user's B1 message is kept apart from the developer's."""

from __future__ import annotations

from providers.errors import ImportRejected, Problem, ProvidersError
from providers.store.access import AccessDenied, ConflictError, NotFound
from services.errors import InvalidRequest, ServiceError


def test_data_layer_errors_share_one_base_with_a_user_message() -> None:
    for exc in (AccessDenied(), NotFound(), ConflictError(3), ImportRejected([])):
        assert isinstance(exc, ProvidersError)
        assert exc.user_message
    # the types callers catch stay what they were
    assert isinstance(AccessDenied(), PermissionError)
    assert isinstance(NotFound(), LookupError)
    assert isinstance(ImportRejected([]), ValueError)


def test_conflict_tells_the_user_in_dutch_and_the_developer_the_version() -> None:
    exc = ConflictError(7)
    assert "opnieuw" in exc.user_message
    assert "7" in str(exc)
    assert exc.user_message != str(exc)


def test_import_rejected_keeps_the_problem_list_out_of_the_user_message() -> None:
    p = Problem("aanbod.csv", None, 2, "plaatsen_vrij", "Vul een heel getal in.")
    exc = ImportRejected([p])
    assert exc.user_message == "1 probleem/problemen gevonden; er is niets ingelezen."
    assert "plaatsen_vrij" in str(exc)


def test_invalid_request_names_each_field() -> None:
    exc = InvalidRequest({"budget": "Vul een positief budget in."})
    assert isinstance(exc, ServiceError)
    assert isinstance(exc, ValueError)
    assert exc.issues == {"budget": "Vul een positief budget in."}
    assert exc.user_message == "Vul een positief budget in."
    assert "budget" in str(exc)


def test_a_plain_message_is_both_until_told_otherwise() -> None:
    assert str(AccessDenied("Kies een regio.")) == "Kies een regio."
    assert ServiceError().user_message == ServiceError.default_user_message
    assert ServiceError("dev detail", user_message="Probeer het later.").user_message == (
        "Probeer het later."
    )
