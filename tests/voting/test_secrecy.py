"""After a secret poll closes, nothing pairs a person with a choice: no page, export,
audit row or log line, for any role, and no database row joins participation to ballot."""
import hashlib
import hmac
import json
import logging
import re

from sqlalchemy import select

from app.extensions import db
from app.records.models import AuditEvent
from app.voting import services
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
    secret = poll.secret_key
    for person, choice in plan.items():
        if person is people[3]:
            services.cast_ballot(poll, person, choice, channel="in_person", entered_by=clerk)
        else:
            services.cast_ballot(poll, person, "yes")
            services.cast_ballot(poll, person, choice)  # changed once
    ids_before = set(db.session.scalars(select(Ballot.id).where(Ballot.poll_id == poll.id)))
    services.close_poll(poll, opener)
    db.session.commit()
    poll = db.session.get(Poll, poll.id)

    # The database: the secret is gone and no ballot row can be matched to a participation row.
    assert poll.secret_key is None
    units = list(db.session.scalars(select(Participation.unit_key).where(Participation.poll_id == poll.id)))
    keys = set(db.session.scalars(select(Ballot.voter_key).where(Ballot.poll_id == poll.id)))
    hmacs = {hmac.new(bytes.fromhex(secret), u.encode(), hashlib.sha256).hexdigest() for u in units}
    assert not keys & hmacs and not keys & set(units)
    assert not ids_before & set(db.session.scalars(select(Ballot.id).where(Ballot.poll_id == poll.id)))
    assert {c.name for c in Ballot.__table__.columns} == {"id", "poll_id", "voter_key", "choice"}

    # The audit chain: no choice, no ballot id or key in any row.
    for ev in db.session.scalars(select(AuditEvent)):
        payload = json.loads(ev.payload)
        if ev.kind == "ballot_cast":
            assert "choice" not in payload
        for secretish in ids_before | keys | hmacs:
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
