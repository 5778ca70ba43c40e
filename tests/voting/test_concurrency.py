"""One counted ballot per voter under concurrent submissions, and no ballot lost when
many vote at once — on whichever database TEST_DATABASE_URL selects (real commits)."""
import threading
from collections import Counter

from sqlalchemy import func, select

from app.accounts.models import Person
from app.extensions import db
from app.voting import services
from app.voting.models import Ballot, Participation, Poll
from tests.voting.factories import make_poll


def _setup(app, voters):
    with app.app_context():
        poll, people, opener = make_poll(voters=voters)
        db.session.commit()
        return poll.id, [p.id for p in people]


def _run_concurrently(app, jobs):
    """Run (person_id, choice, poll_id) jobs in threads released together; returns the errors."""
    barrier = threading.Barrier(len(jobs))
    errors, receipts = [], []

    def work(person_id, choice, poll_id):
        with app.app_context():
            try:
                poll = db.session.get(Poll, poll_id)
                voter = db.session.get(Person, person_id)
                db.session.rollback()  # start the write transaction after the barrier, lock first
                barrier.wait(timeout=30)
                receipts.append(services.cast_ballot(poll, voter, choice))
                db.session.commit()
            except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
                db.session.rollback()
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return errors, receipts


def _counts(app, poll_id):
    """Close the poll (a secret poll's sealed ballots become counted ballots only then)
    and count what it holds."""
    with app.app_context():
        services.close_poll(db.session.get(Poll, poll_id))
        db.session.commit()
        ballots = db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.poll_id == poll_id))
        parts = db.session.scalars(select(Participation).where(Participation.poll_id == poll_id)).all()
        choices = Counter(db.session.scalars(select(Ballot.choice).where(Ballot.poll_id == poll_id)))
        return ballots, parts, choices


def test_fifty_concurrent_submissions_by_the_same_voter_leave_exactly_one_ballot(committing_app):
    poll_id, people = _setup(committing_app, 1)
    choices = ["yes", "no", "abstain"]
    errors, receipts = _run_concurrently(committing_app, [(people[0], choices[i % 3], poll_id) for i in range(50)])
    assert errors == []
    ballots, parts, _ = _counts(committing_app, poll_id)
    assert ballots == 1
    assert len(parts) == 1 and parts[0].times_cast == 50
    assert parts[0].receipt in receipts


def test_many_voters_casting_at_once_lose_no_ballot(committing_app):
    poll_id, people = _setup(committing_app, 40)
    errors, _ = _run_concurrently(committing_app, [(pid, "yes" if i % 4 else "no", poll_id)
                                                   for i, pid in enumerate(people)])
    assert errors == []
    ballots, parts, choices = _counts(committing_app, poll_id)
    assert ballots == 40 and len(parts) == 40
    assert choices == Counter({"yes": 30, "no": 10})
