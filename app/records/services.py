"""Every change of state in the records area, one function each. Services flush, never
commit; each writes its audit event in the same transaction."""
from __future__ import annotations

import hashlib
import io
import os
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from app import clock
from app.accounts.models import utcnow
from app.extensions import db
from app.records.audit import record_event
from app.records.models import Filing, Objection, Report, ReportPhoto
from app.errors import Refused
from app.notifications import api as notifications

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 6
MAX_PHOTO_PIXELS = 50_000_000  # a 50-megapixel phone camera; larger is refused, never decoded
# Thumbnails are shown at 160×120 CSS px; twice that keeps them sharp on a phone's screen.
THUMB_BOX = (320, 240)


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


PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


def _decode(data: bytes) -> Image.Image:
    """The photo's pixels, turned upright by its EXIF orientation, with no metadata left.

    :raises RecordsError: not a picture Pillow can read, or too many pixels.
    """
    ctype, _ext = check_photo(data)
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format != PIL_FORMATS[ctype]:
                raise RecordsError(_("Only JPEG, PNG or WebP photos can be added."))
            if im.width * im.height > MAX_PHOTO_PIXELS:
                raise RecordsError(_("The photo has too many pixels (at most 50 million)."))
            im.load()
            upright = ImageOps.exif_transpose(im)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        if isinstance(exc, RecordsError):
            raise
        raise RecordsError(_("The photo could not be read. Please take it again or choose another one.")) from exc
    upright.info = {}  # EXIF (GPS, camera, time), XMP, ICC and text chunks: none is written back
    return upright


def clean_photo(data: bytes) -> tuple[bytes, str, str, Image.Image]:
    """Re-encode an uploaded photo without its metadata: (bytes, content type, extension,
    the decoded image). The bytes stored and hashed are these, never the upload's."""
    ctype, ext = check_photo(data)
    image = _decode(data)
    out = io.BytesIO()
    if ctype == "image/jpeg":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=85, optimize=True)
    elif ctype == "image/png":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=85)
    return out.getvalue(), ctype, ext, image


def thumbnail_bytes(image: Image.Image) -> bytes:
    """A JPEG of at most THUMB_BOX pixels (transparent parts on white)."""
    thumb = image.copy()
    thumb.thumbnail(THUMB_BOX)
    if thumb.mode in ("RGBA", "LA", "P"):
        thumb = thumb.convert("RGBA")
        flat = Image.new("RGB", thumb.size, (255, 255, 255))
        flat.paste(thumb, mask=thumb.getchannel("A"))
        thumb = flat
    elif thumb.mode != "RGB":
        thumb = thumb.convert("RGB")
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def upload_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def photo_path(photo: ReportPhoto) -> Path:
    return upload_dir() / photo.stored_name


def thumbnail_path(photo: ReportPhoto) -> Path:
    """The thumbnail beside the photo; made now for a photo stored before thumbnails existed."""
    path = upload_dir() / f"{Path(photo.stored_name).stem}.thumb.jpg"
    if not path.is_file():
        source = photo_path(photo)
        if not source.is_file():
            return path
        with Image.open(source) as im:
            im.load()
            _write_new(path, thumbnail_bytes(ImageOps.exif_transpose(im)), exclusive=False)
    return path


def _write_new(target: Path, data: bytes, *, exclusive: bool = True) -> None:
    if not exclusive:  # written under a temporary name, then renamed: a reader never sees half a file
        tmp = target.with_name(f"{target.name}.{secrets.token_hex(4)}.tmp")
        _write_new(tmp, data)
        os.replace(tmp, target)
        return
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _store_photo(report: Report, cleaned: tuple[bytes, str, str, Image.Image]) -> ReportPhoto:
    clean, ctype, ext, image = cleaned
    token = secrets.token_hex(16)
    name = f"{token}.{ext}"
    _write_new(upload_dir() / name, clean)
    _write_new(upload_dir() / f"{token}.thumb.jpg", thumbnail_bytes(image))
    photo = ReportPhoto(report=report, stored_name=name, content_type=ctype, size=len(clean),
                        sha256=hashlib.sha256(clean).hexdigest())
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
    cleaned = [clean_photo(data) for data in photos]  # refuse the whole report before anything is written
    report = Report(proposal_id=proposal.id, kind="final" if final else "progress", body=body, author_id=author.id)
    db.session.add(report)
    db.session.flush()
    stored = [_store_photo(report, item) for item in cleaned]
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
    from app.records.checkpoints import village_checkpoint

    seen = village_checkpoint(proposal.village)  # the township keeps the checkpoint it saw with its filing
    filing = Filing(proposal_id=proposal.id, overseer_id=overseer.id, comment=comment,
                    checkpoint_chain=seen.chain if seen else None, checkpoint_seq=seen.seq if seen else None,
                    checkpoint_hash=seen.head_hash if seen else None)
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
