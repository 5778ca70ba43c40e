"""Questions about a proposal's consultations, for the process engine (through
app/deliberation/hooks.py), the proposal page and this area's own views."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import clock
from app.accounts.models import Person
from app.consultation.models import (
    SENSE_CHOICES, STANCES, THREAD_STAGE, THREADS, Amendment, ConsultationSummary, Disagreement, Post, SenseCheck,
    Stakeholder,
)
from app.extensions import db


def topic_summary_written(proposal) -> bool:
    """The guard to leave the topic consultation: a consultation summary exists."""
    return db.session.scalar(select(func.count(ConsultationSummary.id))
                             .where(ConsultationSummary.proposal_id == proposal.id)) > 0


def topic_summaries_written(proposal_ids) -> set[int]:
    """Which of these proposals (ids, or a select of them) have a consultation summary."""
    return set(db.session.scalars(select(ConsultationSummary.proposal_id)
                                  .where(ConsultationSummary.proposal_id.in_(proposal_ids))))


def open_disagreement_count(proposal) -> int:
    """The guard to leave the consensus consultation: no item may still be open."""
    return db.session.scalar(select(func.count(Disagreement.id)).where(
        Disagreement.proposal_id == proposal.id, Disagreement.status == "open")) or 0


def summary_of(proposal) -> ConsultationSummary | None:
    return db.session.scalar(select(ConsultationSummary).where(ConsultationSummary.proposal_id == proposal.id))


THREAD_PAGE_SIZE = 30  # top-level posts per page of a thread, newest first


def _with_replies(query):
    """Posts with their authors, clerks, disagreement items and replies (and theirs): the
    page's query count stays the same however many posts and replies it shows."""
    return query.options(
        selectinload(Post.author), selectinload(Post.entered_by), selectinload(Post.disagreement),
        selectinload(Post.replies).options(selectinload(Post.author), selectinload(Post.entered_by),
                                           selectinload(Post.disagreement), selectinload(Post.replies)))


def _top_level(proposal, thread: str):
    return select(Post).where(Post.proposal_id == proposal.id, Post.thread == thread, Post.parent_id.is_(None))


def thread_posts(proposal, thread: str) -> list[Post]:
    """Top-level posts, oldest first, with their replies loaded."""
    return list(db.session.scalars(_with_replies(_top_level(proposal, thread)).order_by(Post.id)))


def thread_page(proposal, thread: str, page: int = 1, per_page: int = THREAD_PAGE_SIZE) -> tuple[list[Post], int]:
    """One page of top-level posts, newest first, with their replies; and how many
    top-level posts the thread has in all."""
    total = db.session.scalar(select(func.count()).select_from(_top_level(proposal, thread).subquery())) or 0
    posts = db.session.scalars(_with_replies(_top_level(proposal, thread)).order_by(Post.id.desc())
                               .limit(per_page).offset((max(page, 1) - 1) * per_page))
    return list(posts), total


def thread_page_of(post: Post, per_page: int = THREAD_PAGE_SIZE) -> int:
    """The page of its thread on which a post (or the post it replies to) is shown."""
    top_id = post.parent_id or post.id
    newer = db.session.scalar(select(func.count()).select_from(
        _top_level(post.proposal, post.thread).where(Post.id > top_id).subquery())) or 0
    return newer // per_page + 1


def stance_counts(proposal, thread: str) -> dict[str, int]:
    """How many visible top-level posts take each stance (every stance present, zeros included)."""
    rows = db.session.execute(
        select(Post.stance, func.count(Post.id)).where(
            Post.proposal_id == proposal.id, Post.thread == thread, Post.parent_id.is_(None),
            Post.hidden_at.is_(None)).group_by(Post.stance)).all()
    found = dict(rows)
    return {s: int(found.get(s, 0)) for s in STANCES}


def post_count(proposal, thread: str) -> int:
    return db.session.scalar(select(func.count(Post.id)).where(
        Post.proposal_id == proposal.id, Post.thread == thread)) or 0


@dataclass
class Coverage:
    """How many of the listed stakeholders have given an opinion (in either thread)."""

    households_total: int = 0
    households_heard: int = 0
    people_total: int = 0
    people_heard: int = 0
    heard_ids: set[int] = field(default_factory=set)  # Stakeholder ids
    unheard: list[Stakeholder] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.households_total + self.people_total


def stakeholders_of(proposal) -> list[Stakeholder]:
    return list(db.session.scalars(
        select(Stakeholder).where(Stakeholder.proposal_id == proposal.id)
        .options(selectinload(Stakeholder.household), selectinload(Stakeholder.person)).order_by(Stakeholder.id)))


def coverage(proposal) -> Coverage:
    """A household is heard when any of its members gave an opinion (a hidden post still
    counts: the person was heard); a listed person when they did."""
    authors = select(Post.author_id).where(Post.proposal_id == proposal.id).distinct()
    heard_people = set(db.session.scalars(authors))
    heard_households = set(db.session.scalars(
        select(Person.household_id).where(Person.id.in_(authors), Person.household_id.is_not(None))))
    cov = Coverage()
    for s in stakeholders_of(proposal):
        if s.household_id is not None:
            cov.households_total += 1
            heard = s.household_id in heard_households
            cov.households_heard += heard
        else:
            cov.people_total += 1
            heard = s.person_id in heard_people
            cov.people_heard += heard
        if heard:
            cov.heard_ids.add(s.id)
        else:
            cov.unheard.append(s)
    return cov


def stakeholder_name(s: Stakeholder) -> str:
    """A household by its number and its members' names (household 12: 刘玉梅、王强), or the person."""
    if s.household is not None:
        names = "、".join(m.name for m in s.household.members)
        label = _("Household %(number)s", number=s.household.number)
        return f"{label}（{names}）" if names else label
    return s.person.name if s.person else "—"


def unheard_in_topic(proposal) -> list[str]:
    """Listed stakeholders of whom no opinion was heard in the topic consultation
    (a household is heard when any member was), named; what the summary records."""
    authors = set(db.session.scalars(select(Post.author_id).where(
        Post.proposal_id == proposal.id, Post.thread == "topic").distinct()))
    households = set(db.session.scalars(select(Person.household_id).where(
        Person.id.in_(authors), Person.household_id.is_not(None)))) if authors else set()
    out = []
    for s in stakeholders_of(proposal):
        heard = (s.household_id in households) if s.household_id is not None else (s.person_id in authors)
        if not heard:
            out.append(stakeholder_name(s))
    return out


def disagreements_of(proposal) -> list[Disagreement]:
    return list(db.session.scalars(
        select(Disagreement).where(Disagreement.proposal_id == proposal.id)
        .options(selectinload(Disagreement.amendments), selectinload(Disagreement.post)).order_by(Disagreement.id)))


def amendments_of(proposal) -> list[Amendment]:
    return list(db.session.scalars(select(Amendment).where(Amendment.proposal_id == proposal.id)
                                   .order_by(Amendment.id)))


def sense_counts(proposal) -> dict[str, int]:
    rows = dict(db.session.execute(select(SenseCheck.choice, func.count(SenseCheck.id))
                                   .where(SenseCheck.proposal_id == proposal.id).group_by(SenseCheck.choice)).all())
    return {c: int(rows.get(c, 0)) for c in SENSE_CHOICES}


def my_sense(proposal, person) -> str | None:
    if not getattr(person, "is_authenticated", False):
        return None
    return db.session.scalar(select(SenseCheck.choice).where(SenseCheck.proposal_id == proposal.id,
                                                             SenseCheck.person_id == person.id))


def current_thread(proposal) -> str | None:
    """The thread whose stage the proposal is in, if any."""
    return next((t for t, stage in THREAD_STAGE.items() if stage == proposal.stage), None)


def _export_post(post: Post) -> dict:
    """One post for the record; a hidden post keeps its place and the reason, not its text."""
    hidden = post.hidden_at is not None
    return {
        "id": post.id, "stance": post.stance, "at": clock.isoformat(post.created_at),
        "author": {"id": post.author_id, "name": post.author.name},
        "entered_by": {"id": post.entered_by_id, "name": post.entered_by.name} if post.entered_by_id else None,
        "body": None if hidden else post.body,
        "hidden": hidden, "hidden_reason": post.hidden_reason if hidden else None,
        "hidden_at": clock.isoformat(post.hidden_at) if hidden else None,
        "replies": [_export_post(r) for r in post.replies],
    }


def export_threads(proposal) -> list[dict]:
    """Both consultation threads for the record (DESIGN.md §4), oldest post first."""
    summary = summary_of(proposal)
    threads = []
    for kind in THREADS:
        entry = {"kind": kind, "posts": [_export_post(p) for p in thread_posts(proposal, kind)]}
        if kind == "topic":
            entry["summary"] = {"heard": summary.heard, "answer": summary.answer,
                                "written_by": summary.written_by_id,
                                "written_at": clock.isoformat(summary.written_at)} if summary else None
            entry["stakeholders"] = [{"household_id": s.household_id, "person_id": s.person_id, "reason": s.reason}
                                     for s in stakeholders_of(proposal)]
        threads.append(entry)
    return threads


def export_disagreements(proposal) -> list[dict]:
    """Every disagreement item with its status and outcome, and the amendments made for it."""
    return [{
        "id": d.id, "post_id": d.post_id, "title": d.title, "status": d.status,
        "resolution": d.outcome if d.status == "resolved" else None,
        "reason": d.outcome if d.status == "carried" else None,
        "created_at": clock.isoformat(d.created_at), "closed_at": clock.isoformat(d.closed_at) if d.closed_at else None,
        "amendments": [{"id": a.id, "status": a.status, "version_id": a.version_id} for a in d.amendments],
    } for d in disagreements_of(proposal)]
