"""A CSV import of villagers, run by the job queue so that it never holds the write
lock for long (voters keep voting while 10,000 people are imported).

1. `start_import` (web request): store the file in an import record; enqueue the job.
2. `run_import` (worker): read and check every row outside any write transaction;
   any bad row fails the whole import with every problem by line number.
3. Stage the checked rows in batches (IMPORT_BATCH_ROWS per short write transaction).
4. Make them real in one short transaction: households, people and roles by
   set-based INSERT … SELECT from the staging rows, one audit event with the count and
   a digest of the rows, the record flipped to done. All rows or none.
"""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, delete, exists, func, insert, literal, select, update

from app.records import binding
from app.accounts.models import (
    VILLAGE_ROLES, Household, PeopleImport, PeopleImportRow, Person, RoleGrant, Village, utcnow,
)
from app.database import read_transaction, write_transaction
from app.extensions import db
from app.records.audit import record_event


log = logging.getLogger("gongyi.imports")


def start_import(village: Village, actor: Person, raw: bytes, filename: str) -> PeopleImport:
    """Store the uploaded file for the worker (the caller commits, then enqueues)."""
    from app.accounts.services import AccountError

    limit = current_app.config["IMPORT_MAX_BYTES"]
    if not raw:
        raise AccountError(_("The file “%(name)s” is empty.", name=filename))
    if len(raw) > limit:
        raise AccountError(_("The file “%(name)s” is larger than %(mb)d MB.", name=filename, mb=limit // 2**20))
    record = PeopleImport(village_id=village.id, actor_id=actor.id, filename=filename[:200], content=raw)
    db.session.add(record)
    db.session.flush()
    return record


def enqueue(record: PeopleImport) -> None:
    from app.jobs import import_people

    import_people(record.id)


def _fail(import_id: int, errors: list) -> None:
    with write_transaction(db.session):
        db.session.execute(delete(PeopleImportRow).where(PeopleImportRow.import_id == import_id))
        db.session.execute(update(PeopleImport).where(PeopleImport.id == import_id).values(
            status="failed", errors=json.dumps([[n, str(m)] for n, m in errors], ensure_ascii=False),
            content=None, finished_at=utcnow()))


def run_import(import_id: int) -> None:
    from app.accounts.services import AccountError, check_csv_rows

    with read_transaction(db.session):
        record = db.session.get(PeopleImport, import_id)
        if record is None or record.finished:
            return
        village_id, actor_id, raw = record.village_id, record.actor_id, record.content
    with write_transaction(db.session):
        db.session.execute(update(PeopleImport).where(PeopleImport.id == import_id).values(status="checking"))
    # 2. Check every row, reading only: a deferred transaction, never the write lock.
    with read_transaction(db.session):
        try:
            rows, errors = check_csv_rows(raw or b"")
        except AccountError as exc:
            rows, errors = [], [(1, str(exc))]
    if errors:
        _fail(import_id, errors)
        return
    # 3. Stage in short batches.
    batch = current_app.config["IMPORT_BATCH_ROWS"]
    with write_transaction(db.session):
        db.session.execute(update(PeopleImport).where(PeopleImport.id == import_id).values(
            status="writing", total_rows=len(rows)))
    digest = hashlib.sha256()
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        values = []
        for line, data in chunk:
            roles = "," + ",".join(dict.fromkeys(data.roles or ["villager"])) + ","
            values.append({"import_id": import_id, "line": line, "name": data.name.strip(), "phone": data.phone,
                           "household": data.household, "group_name": data.group, "gender": data.gender, "birth_date": data.birth_date,
                           "roles": roles, "session_token": secrets.token_hex(16)})
            digest.update(f"{line}|{data.name.strip()}|{data.phone}|{data.household}|{data.group}|{roles}\n".encode())
        with write_transaction(db.session):
            db.session.connection()  # takes the write lock (SQLite: BEGIN IMMEDIATE waits here)
            began = time.perf_counter()
            db.session.execute(insert(PeopleImportRow), values)
            db.session.execute(update(PeopleImport).where(PeopleImport.id == import_id).values(
                staged_rows=start + len(chunk)))
        log.info("import %s: staged %d rows in %.1f ms", import_id, len(chunk), (time.perf_counter() - began) * 1000)
    # 4. All of them, in one short transaction.
    try:
        with write_transaction(db.session):
            db.session.connection()
            began = time.perf_counter()
            created = _make_real(import_id, village_id, actor_id, digest.hexdigest())
        log.info("import %s: %d people made real in %.1f ms", import_id, created, (time.perf_counter() - began) * 1000)
    except Exception as exc:  # e.g. a phone registered by hand meanwhile (unique)
        db.session.rollback()
        current_app.logger.warning("import %s failed at the end: %s", import_id, exc)
        _fail(import_id, [(0, _("Someone registered one of these phone numbers while the file was being "
                                "imported. Nothing was imported; please import the file again."))])
        return
    del created


def _make_real(import_id: int, village_id: int, actor_id: int, digest: str) -> int:
    staged = select(PeopleImportRow).where(PeopleImportRow.import_id == import_id).subquery()
    now = utcnow()
    # Households not yet in the village.
    new_households = (select(literal(village_id), staged.c.household, func.max(staged.c.group_name))
                      .where(staged.c.household.is_not(None))
                      .where(~exists().where(and_(Household.village_id == village_id,
                                                  Household.number == staged.c.household)))
                      .group_by(staged.c.household))
    db.session.execute(insert(Household).from_select(["village_id", "number", "group_name"], new_households))
    people = (select(literal(village_id), Household.id, staged.c.name, staged.c.phone, staged.c.gender,
                     staged.c.birth_date, staged.c.session_token, literal(False), literal(True), literal(now))
              .select_from(staged.outerjoin(Household, and_(Household.village_id == village_id,
                                                            Household.number == staged.c.household))))
    db.session.execute(insert(Person).from_select(
        ["village_id", "household_id", "name", "phone", "gender", "birth_date", "session_token", "large_text",
         "active", "created_at"], people))
    # The grants are bound to the audit chain like any other (app.records.binding), and the
    # import's event names them, so verify's roles (grants minus revocations) include them.
    with binding.insert_from_select(db.session, "role_grant",
                                    (RoleGrant.village_id == village_id) & (RoleGrant.granted_at == now)):
        for role in VILLAGE_ROLES:
            grants = (select(Person.id, literal(role), literal(village_id), literal(now))
                      .select_from(Person.__table__.join(staged, staged.c.phone == Person.phone))
                      .where(staged.c.roles.like(f"%,{role},%")))
            db.session.execute(insert(RoleGrant).from_select(["person_id", "role", "village_id", "granted_at"],
                                                             grants))
    granted = [[pid, role] for pid, role in db.session.execute(
        select(RoleGrant.person_id, RoleGrant.role).where(RoleGrant.village_id == village_id,
                                                          RoleGrant.granted_at == now)
        .order_by(RoleGrant.person_id, RoleGrant.role))]
    count = db.session.scalar(select(db.func.count()).select_from(staged))
    db.session.execute(delete(PeopleImportRow).where(PeopleImportRow.import_id == import_id))
    db.session.execute(update(PeopleImport).where(PeopleImport.id == import_id).values(
        status="done", created_count=count, content=None, finished_at=now))
    record_event("people.imported", actor=db.session.get(Person, actor_id), village_id=village_id,
                 payload={"count": count, "rows_sha256": digest, "import_id": import_id, "grants": granted})
    return count
