"""How the referral API answers a refusal of the loop: a duplicate ref is 409, another
provider's aanmelding is 404, an answer the aanmelding's status no longer allows is 422
with the reason; each in the API's error shape, and nothing stored."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services import referrals
from services.errors import AccessDenied, DuplicateCase, NotFound, StatusConflict
from tests.wijzer.conftest import csrf_from
from tests.wijzer.test_casus import as_user  # noqa: F401 - the fixture
from wijzer.routers.api_referrals import REFUSAL_STATUS

BODY = {
    "ref": "API-REFUSAL-1",
    "birth_month": "2015-04",
    "gemeente": "GM0505",
    "measure": "OTS",
    "ruling_date": "2026-10-01",
    "needs": ["TRAUMATHERAPIE"],
}


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (DuplicateCase("kenmerk", "dubbel"), 409),
        (StatusConflict("al beantwoord"), 409),
        (NotFound("weg"), 404),
        (AccessDenied("niet van u"), 404),
        (referrals.ReferralError("veld", "fout"), 422),
    ],
)
def test_each_refusal_has_one_status(exc: Exception, status: int) -> None:
    assert next(code for kind, code in REFUSAL_STATUS if isinstance(exc, kind)) == status


def test_duplicate_ref_conflict_and_another_providers_aanmelding(
    ids: dict[str, int],
    as_user: dict[str, TestClient],  # noqa: F811 - the fixture
) -> None:
    v, own, other = (
        as_user["test-verwijzer"],
        as_user["test-aanbieder"],
        as_user["test-ander-aanbieder"],
    )
    hv = {"X-CSRF-Token": csrf_from(v.get("/").text)}
    ho = {"X-CSRF-Token": csrf_from(own.get("/").text)}
    hx = {"X-CSRF-Token": csrf_from(other.get("/").text)}
    assert v.post("/api/v1/casussen", json=BODY, headers=hv).status_code == 201
    dup = v.post("/api/v1/casussen", json=BODY, headers=hv)
    assert dup.status_code == 409
    assert dup.json()["message"]
    need = v.get(f"/api/v1/casussen/{BODY['ref']}").json()["needs"][0]["id"]
    made = v.post(
        "/api/v1/aanmeldingen",
        json={"ref": BODY["ref"], "need_id": need, "offering_id": ids["offering:snel"]},
        headers=hv,
    )
    aid = made.json()["id"]
    decline = {"kind": "decline", "reason": "NO_CAPACITY", "text": "Vol"}
    # the other provider was not asked: the same answer as for an id that does not exist
    assert (
        other.post(f"/api/v1/aanmeldingen/{aid}/antwoord", json=decline, headers=hx).status_code
        == 404
    )
    first = own.post(f"/api/v1/aanmeldingen/{aid}/antwoord", json=decline, headers=ho)
    assert first.status_code == 200
    again = own.post(f"/api/v1/aanmeldingen/{aid}/antwoord", json=decline, headers=ho)
    assert again.status_code == 422, again.text
    assert again.json()["message"] == "Dit kan niet meer: de aanmelding heeft de stand 'afgewezen'."
    assert (
        v.get(f"/api/v1/casussen/{BODY['ref']}").json()["needs"][0]["aanmeldingen"][0]["status"]
        == "afgewezen"
    )
