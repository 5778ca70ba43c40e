"""Every change of state in the records area, one function each. Services flush, never
commit; each writes its audit event in the same transaction."""
from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from app import clock
from app.accounts.models import utcnow
from app.extensions import db
from app.records.audit import record_event
from app.records.models import Filing, Objection, Report, ReportPhoto
from app.errors import Refused
from app.notifications import api as notifications

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 6


class RecordsError(Refused, ValueError):
    """A refused change, with a message a villager can read."""


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _event(event_kind: str, actor, proposal, obj, **payload):
    return record_event(event_kind, actor=actor, village_id=proposal.village_id,
                        township_id=proposal.village.township_id, obj=obj,
                        payload={"proposal_id": proposal.id, **payload})


# 决议公开 — objections -----------------------------------------------------------------

def file_objection(proposal, author, body: str) -> Objection:
    """A villager objects to a posted resolution; the reply is due within the profile's days."""
    from app.records.permissions import can_object

    body = (body or "").strip()
    if not body:
        raise RecordsError(_("Please write what you object to."))
    if not can_object(author, proposal):
        raise RecordsError(_("Objections can only be filed while the resolution is posted."))
    now = utcnow()
    objection = Objection(proposal_id=proposal.id, author_id=author.id, body=body, filed_at=now,
                          reply_due_at=clock.profile_period_end(proposal.village.rule_profile, now,
                                                                proposal.village.rule_profile.objection_reply_days))
    db.session.add(objection)
    db.session.flush()
    _event("objection.filed", author, proposal, objection, body_sha256=_sha(body),
           reply_due_at=clock.isoformat(objection.reply_due_at))
    return objection


def answer_objection(objection, supervisor, answer: str, upheld: bool) -> Objection:
    """The supervision committee answers an objection, finding it valid (upheld) or not."""
    from app.records.permissions import can_answer_objection

    answer = (answer or "").strip()
    if not answer:
        raise RecordsError(_("Please write the answer."))
    if not can_answer_objection(supervisor, objection):
        raise RecordsError(_("This objection cannot be answered now."))
    objection.answer = answer
    objection.upheld = bool(upheld)
    objection.answered_by_id = supervisor.id
    objection.answered_at = utcnow()
    db.session.flush()
    _event("objection.answered", supervisor, objection.proposal, objection, upheld=objection.upheld,
           answer_sha256=_sha(answer), late=objection.is_overdue())
    notifications.objection_answered(objection)
    return objection


def send_back(proposal, actor, reason: str):
    """An upheld objection sends the proposal back to the consensus consultation (the
    engine checks who may and whether an upheld objection exists).

    :raises InvalidTransition: from the engine.
    """
    from app.deliberation.engine import transition

    return transition(proposal, "consensus_consultation", actor, reason=reason)


# 实施 — reports and photos ---------------------------------------------------------------

PHOTO_TYPES = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)


def sniff_photo(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the file's first bytes, never from its name."""
    for magic, ctype, ext in PHOTO_TYPES:
        if data.startswith(magic):
            return ctype, ext
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def check_photo(data: bytes) -> tuple[str, str]:
    if not data:
        raise RecordsError(_("The photo is empty."))
    if len(data) > MAX_PHOTO_BYTES:
        raise RecordsError(_("A photo may be at most 5 MB."))
    kind = sniff_photo(data)
    if kind is None:
        raise RecordsError(_("Only JPEG, PNG or WebP photos can be added."))
    return kind


def upload_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def photo_path(photo: ReportPhoto) -> Path:
    return upload_dir() / photo.stored_name


def _store_photo(report: Report, data: bytes) -> ReportPhoto:
    ctype, ext = check_photo(data)
    name = f"{secrets.token_hex(16)}.{ext}"
    target = upload_dir() / name
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    photo = ReportPhoto(report=report, stored_name=name, content_type=ctype, size=len(data),
                        sha256=hashlib.sha256(data).hexdigest())
    db.session.add(photo)
    return photo


def post_report(proposal, author, body: str, *, final: bool = False, photos: list[bytes] = ()) -> Report:
    """The committee posts a progress report, or the one final result report."""
    from app.records.permissions import can_post_final_report, can_post_report

    body = (body or "").strip()
    if not body:
        raise RecordsError(_("Please write the report."))
    if not can_post_report(author, proposal):
        raise RecordsError(_("Reports can only be posted while the resolution is being carried out."))
    if final and not can_post_final_report(author, proposal):
        raise RecordsError(_("The final result report has already been posted."))
    photos = [p for p in photos if p]
    if len(photos) > MAX_PHOTOS:
        raise RecordsError(_("At most %(n)d photos per report.", n=MAX_PHOTOS))
    for data in photos:
        check_photo(data)  # refuse the whole report before anything is written
    report = Report(proposal_id=proposal.id, kind="final" if final else "progress", body=body, author_id=author.id)
    db.session.add(report)
    db.session.flush()
    stored = [_store_photo(report, data) for data in photos]
    db.session.flush()
    _event("report.posted", author, proposal, report, report_kind=report.kind, body_sha256=_sha(body),
           photos=[p.sha256 for p in stored])
    return report


def give_opinion(report, supervisor, opinion: str) -> Report:
    """The supervision committee's opinion on a report."""
    from app.records.permissions import can_give_opinion

    opinion = (opinion or "").strip()
    if not opinion:
        raise RecordsError(_("Please write the opinion."))
    if not can_give_opinion(supervisor, report):
        raise RecordsError(_("An opinion cannot be added to this report now."))
    report.opinion = opinion
    report.opinion_by_id = supervisor.id
    report.opinion_at = utcnow()
    db.session.flush()
    _event("report.opinion", supervisor, report.proposal, report, opinion_sha256=_sha(opinion))
    return report


# 乡镇备案 — filing ----------------------------------------------------------------------

def file_record(proposal, overseer, comment: str) -> Filing:
    """The township overseer files a completed record, which the engine then archives.

    :raises RecordsError: no comment, or not allowed.
    :raises InvalidTransition: from the engine.
    """
    from app.deliberation.engine import transition
    from app.records.permissions import can_file_record

    comment = (comment or "").strip()
    if not comment:
        raise RecordsError(_("Please write a comment for the filing."))
    if not can_file_record(overseer, proposal):
        raise RecordsError(_("Only a completed record can be filed, by its township's overseer."))
    filing = Filing(proposal_id=proposal.id, overseer_id=overseer.id, comment=comment)
    db.session.add(filing)
    db.session.flush()
    _event("record.filed", overseer, proposal, filing, comment_sha256=_sha(comment))
    transition(proposal, "archived", overseer, reason=comment)
    return filing


def note_export(proposal, actor, fmt: str) -> None:
    """Exporting a record is itself an audit event."""
    record_event("record.exported", actor=actor, village_id=proposal.village_id,
                 township_id=proposal.village.township_id, object_type="proposal", object_id=proposal.id,
                 payload={"proposal_id": proposal.id, "format": fmt})
