"""Two servers mailing meldingen at the same moment: the second waits for the first
and then finds nothing left to claim, so no melding is sent twice.  SQLite and (with
WIJZER_TEST_POSTGRES_URL) PostgreSQL."""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session, sessionmaker

from providers.store import meldingen
from providers.store.accounts import create_organisation
from providers.store.models import MeldingAddress, OrganisationKind


def test_a_claimed_melding_is_not_claimed_again_by_a_second_server(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        org = create_organisation(s, "GI", OrganisationKind.GI, region_code="JZ31")
        s.add(MeldingAddress(organisation_id=org.id, email="team@gi.example"))
        assert meldingen.add(s, org.id, "antwoord", "Casus K-1: er is een antwoord.")
    with sessions() as s:
        ids = [m.melding_id for m in meldingen.unmailed(s)]
    assert len(ids) == 1

    first = sessions()
    first.begin()
    assert meldingen.claim(first, ids) == ids
    second: list[int] = [-1]

    def other_server() -> None:
        with sessions.begin() as s:
            # read before the first server is done, as a real second server would
            second[:] = meldingen.claim(s, ids)

    t = threading.Thread(target=other_server)
    t.start()
    t.join(0.5)
    assert t.is_alive()  # waits for the first server's transaction
    first.commit()
    first.close()
    t.join(30)
    assert not t.is_alive()
    assert second == []
    with sessions() as s:
        assert meldingen.unmailed(s) == []
