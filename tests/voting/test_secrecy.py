"""After a secret poll closes, nothing pairs a person with a choice: no page, export,
audit row or log line, for any role, and no database row joins participation to ballot."""
import json
import logging
import re

from sqlalchemy import select

from app.extensions import db
from app.records.models import AuditEvent
from app.voting import keystore, services
from app.voting.models import Ballot, Participation, Poll
from tests.factories import make_user
from tests.voting.factories import make_poll

CHOICE_WORDS = re.compile(r"\b(yes|no|abstain)\b|同意|反对|弃权|赞成", re.IGNORECASE)
LI = re.compile(r"<li\b.*?</li>", re.DOTALL)


def _blocks_naming(html: str, name: str) -> list[str]:
    return [m.group(0) for m in LI.finditer(html) if name in m.group(0)]


def test_a_closed_secret_poll_pairs_no_person_with_a_choice_anywhere(db, client, login_as, caplog):
    caplog.set_level(logging.DEBUG)
    client.set_cookie("lang", "en")
    poll, people, opener = make_poll(voters=4)
    clerk = make_user(["clerk"], poll.village)
    overseer = make_user(["overseer"], township=poll.village.township)
    plan = {people[0]: "yes", people[1]: "no", people[2]: "abstain", people[3]: "no"}
    meeting = services.open_meeting(poll, clerk)
    services.sign_in(meeting, people[3], clerk)
    services.issue_paper_ballot(meeting, people[3], clerk)  # people[3] votes on paper in the hall
    store = keystore.get_store()
    key_id = poll.key_id
    key = store.get(poll.id, key_id)
    assert key is not None and poll.key_id
    for person, choice in plan.items():
        if person is not people[3]:
            services.cast_ballot(poll, person, "yes")
            services.cast_ballot(poll, person, choice)  # changed once
    sealed = set(db.session.scalars(select(Participation.sealed).where(Participation.poll_id == poll.id,
                                                                     Participation.sealed.is_not(None))))
    assert len(sealed) == 3 and len({len(b) for b in sealed}) == 1  # one length whatever the choice
    assert db.session.scalar(select(Ballot.id).where(Ballot.poll_id == poll.id)) is None  # no ballot row while open
    services.record_hall_count(poll, clerk, issued=1, returned=1, yes=0, no=1, abstain=0, spoilt=0,
                               scrutineers="王监票, 李监票", counter="赵计票")
    services.close_poll(poll, opener)
    db.session.commit()
    poll = db.session.get(Poll, poll.id)

    # The database and the key store: the key is gone, nothing sealed is left, and the
    # counted ballots carry no voter key at all.
    assert poll.key_id is None and store.get(poll.id, key_id) is None
    assert all(pid != poll.id for pid, _k in store.stored())
    assert db.session.scalar(select(Participation.id).where(Participation.poll_id == poll.id,
                                                            Participation.sealed.is_not(None))) is None
    assert set(db.session.scalars(select(Ballot.voter_key).where(Ballot.poll_id == poll.id))) == {None}
    assert sorted(db.session.scalars(select(Ballot.choice).where(Ballot.poll_id == poll.id))) == ["abstain", "no", "yes"]
    assert (poll.tally.yes, poll.tally.no, poll.tally.abstain, poll.tally.took_part) == (1, 2, 1, 4)
    assert {c.name for c in Ballot.__table__.columns} == {"id", "poll_id", "voter_key", "choice"}
    secretish_values = {key.hex(), key_id} | {b.hex() for b in sealed}

    # The audit chain: no choice, no key or sealed ballot in any row.
    for ev in db.session.scalars(select(AuditEvent)):
        payload = json.loads(ev.payload)
        if ev.kind == "ballot_cast":
            assert "choice" not in payload
        for secretish in secretish_values - {key_id}:
            assert secretish not in ev.payload

    # Every page and the export, for every role.
    pages = [f"/polls/{poll.id}", f"/polls/{poll.id}/receipts", f"/polls/{poll.id}/meeting", "/polls",
             f"/polls/{poll.id}/record.json", f"/proposals/{poll.proposal_id}"]
    for viewer in (opener, clerk, overseer, people[0], people[3]):
        b = login_as(viewer)
        for url in pages:
            resp = b.get(url)
            if resp.status_code != 200:
                continue
            if url.endswith(".json"):
                data = resp.get_json()
                assert all("choice" not in row for row in data["took_part"])
                continue
            html = resp.get_data(as_text=True)
            for person in plan:
                for block in _blocks_naming(html, person.name):
                    assert not CHOICE_WORDS.search(re.sub(r"<[^>]+>", " ", block)), (viewer.name, url, block)
        b.client.post("/logout", data={"csrf_token": b.token})

    # No log line pairs a voter with a choice.
    for record in caplog.records:
        message = record.getMessage()
        for person, choice in plan.items():
            assert not (person.name in message and choice in message)
            assert not (f"voter_id={person.id}" in message and choice in message)
