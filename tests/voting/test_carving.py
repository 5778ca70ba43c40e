"""File carving after close: an operator copies the database's raw files (SQLite with
its -wal and -shm; PostgreSQL's table files and the WAL written during the poll)
together with the instance folder and the app's configuration, and searches them as
an attacker would. Nothing may link a voter to a choice.

The poll is run through the pages, as villagers and a committee member would run it,
on a database of the test's own whose transactions really commit.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import text

from app import create_app
from app.config import TestConfig
from app.extensions import db
from tests.conftest import ON_POSTGRES, Browser
from tests.factories import PASSWORD
from tests.voting.factories import make_poll

HEX64 = re.compile(rb"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])")
B64_32 = re.compile(rb"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{43}=?")
PLAN = ["yes", "no", "abstain", "no", "yes", "no", "abstain", "yes"]


def _candidate_keys(blobs: list[bytes], secret_key: str) -> set[bytes]:
    """Every string an attacker would try as an HMAC or cipher key: 64-hex strings,
    base64 strings of 32 bytes, the instance's secret key (as text and hashed), and
    every 32-byte window of the small instance files."""
    keys: set[bytes] = {secret_key.encode(), hashlib.sha256(secret_key.encode()).digest()}
    for blob in blobs:
        for m in HEX64.finditer(blob):
            keys.add(bytes.fromhex(m.group(0).decode()))
        for m in B64_32.finditer(blob):
            raw = m.group(0)
            try:
                decoded = base64.b64decode(raw + b"=" * (-len(raw) % 4), altchars=b"-_" if b"-" in raw or b"_" in raw
                                           else None)
            except ValueError:
                continue
            if len(decoded) == 32:
                keys.add(decoded)
    return keys


def _instance_files(folder: Path) -> list[bytes]:
    return [p.read_bytes() for p in folder.rglob("*") if p.is_file()]


def _small_file_windows(files: list[bytes]) -> set[bytes]:
    return {f[i:i + 32] for f in files if len(f) < 4096 for i in range(0, max(len(f) - 31, 0))}


def _run_poll(app) -> dict:
    """Open a secret poll, let every voter vote twice through the pages (a changed vote),
    and close it through the page. Returns what the attacker is after, and what the
    omniscient test saw while the poll was open (the keys and the sealed ballots)."""
    with app.app_context():
        poll, people, opener = make_poll(voters=len(PLAN) - 1)
        db.session.commit()
        voters = [opener, *people]
        poll_id = poll.id
        units = {v.id: f"p{v.id}" for v in voters}
        phones = {v.id: v.phone for v in voters}
        opener_id = opener.id
    final, receipts = {}, {}
    for i, (vid, phone) in enumerate(phones.items()):
        b = Browser(app.test_client())
        b.get("/login")
        assert b.post("/login", {"phone": phone, "password": PASSWORD}).status_code == 302
        b.get(f"/polls/{poll_id}")
        first = PLAN[(i + 1) % len(PLAN)]
        assert b.post(f"/polls/{poll_id}/cast", {"choice": first}).status_code == 302
        b.get(f"/polls/{poll_id}")
        assert b.post(f"/polls/{poll_id}/cast", {"choice": PLAN[i]}).status_code == 302
        page = b.get(f"/polls/{poll_id}").get_data(as_text=True)
        receipts[vid] = re.search(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4})</code>", page).group(1)
        final[vid] = PLAN[i]
        if vid == opener_id:
            closer = b
    seen = _seen_while_open(app, poll_id)
    closer.get(f"/polls/{poll_id}")
    assert closer.post(f"/polls/{poll_id}/close", {}).status_code == 302
    with app.app_context():
        status = db.session.execute(text("SELECT status FROM poll WHERE id = :i"), {"i": poll_id}).scalar()
        db.session.remove()
    assert status == "closed"
    return {"poll_id": poll_id, "units": units, "final": final, "receipts": receipts, **seen}


def _seen_while_open(app, poll_id: int) -> dict:
    """What a copy taken during voting would hold: every key-like value and sealed value
    (read through whatever the schema of the day has)."""
    with app.app_context():
        cols = {c["name"] for c in db.inspect(db.engine).get_columns("poll")}
        pcols = {c["name"] for c in db.inspect(db.engine).get_columns("poll_participation")}
        secret = None
        if "secret_key" in cols:
            secret = db.session.execute(text("SELECT secret_key FROM poll WHERE id = :i"), {"i": poll_id}).scalar()
        sealed = []
        if "sealed" in pcols:
            sealed = [bytes(r[0]) for r in db.session.execute(
                text("SELECT sealed FROM poll_participation WHERE poll_id = :i AND sealed IS NOT NULL"),
                {"i": poll_id})]
        store_keys, key_ids = [], []
        try:
            from app.voting import keystore

            store = keystore.get_store()
            key_ids = [kid for pid, kid in store.stored() if pid == poll_id]
            store_keys = [store.get(poll_id, kid) for kid in key_ids]
        except ImportError:
            pass
        db.session.remove()
    return {"old_secret": secret, "sealed": sealed, "store_keys": [k for k in store_keys if k], "key_ids": key_ids}


def _links(blobs: list[bytes], keys: set[bytes], run: dict) -> list[str]:
    """Every link between a voter and a choice that the attacker can make."""
    found = []
    hex_strings = {m.group(0).lower() for blob in blobs for m in HEX64.finditer(blob)}
    for key in keys:
        for vid, unit in run["units"].items():
            mac = hmac.new(key, unit.encode(), hashlib.sha256).hexdigest().encode()
            if mac in hex_strings:
                found.append(f"HMAC({key.hex()[:8]}…, {unit}) is in the files")
    return found


def _assert_nothing_links(blobs: list[bytes], instance: list[bytes], run: dict, secret_key: str) -> None:
    joined = b"\n".join(blobs + instance)
    keys = _candidate_keys(blobs + instance, secret_key) | _small_file_windows(instance)
    for key in run["store_keys"]:
        assert key not in joined and key.hex().encode() not in joined \
            and base64.b64encode(key) not in joined, "the poll key is still on disk"
    if run["old_secret"]:
        keys.add(bytes.fromhex(run["old_secret"]))
    links = _links(blobs, keys, run)
    assert links == [], links[:5]


def _assert_sealed_opens_with_no_found_key(blobs: list[bytes], instance: list[bytes], run: dict) -> None:
    """With the source's additional data (poll, unit, key id), no key found opens a
    sealed ballot. The attacker is given every sealed ballot and key id seen while the
    poll was open (the key ids are in the database's history anyway)."""
    key_ids = [k.encode() for k in run["key_ids"]]
    keys = [k for k in _candidate_keys(blobs + instance, "x") | _small_file_windows(instance) if len(k) == 32]
    for blob in run["sealed"]:
        for key in keys:
            cipher = AESGCM(key)
            for unit in run["units"].values():
                for key_id in key_ids:
                    aad = f"gongyi-ballot:{run['poll_id']}:{unit}:{key_id.decode()}".encode()
                    try:
                        cipher.decrypt(blob[:12], blob[12:], aad)
                    except Exception:  # noqa: BLE001
                        continue
                    pytest.fail("a sealed ballot opened with a key found on disk")


def _sqlite_app(folder: Path):
    class Cfg(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder / 'gongyi.sqlite3'}"
        POLL_KEY_DIR = str(folder / "poll-keys")
        POLL_KEY_REDIS_URL = None
        SQLITE_CHECKPOINT_TIMEOUT_MS = 5000

    app = create_app(Cfg)
    with app.app_context():
        db.create_all()
    return app


def test_carving_the_sqlite_files_after_close_links_no_voter_to_a_choice():
    folder = Path(tempfile.mkdtemp(prefix="gongyi-carve-"))
    app = _sqlite_app(folder)
    run = _run_poll(app)
    # The operator's copy, taken with the server still running (its connections open).
    copy = Path(tempfile.mkdtemp(prefix="gongyi-copy-"))
    for suffix in ("", "-wal", "-shm"):
        src = folder / f"gongyi.sqlite3{suffix}"
        if src.exists():
            shutil.copyfile(src, copy / src.name)
    blobs = [p.read_bytes() for p in copy.iterdir()]
    instance = _instance_files(folder / "poll-keys") if (folder / "poll-keys").exists() else []
    instance += _instance_files(Path(os.environ["GONGYI_INSTANCE"]))
    _assert_nothing_links(blobs, instance, run, app.config["SECRET_KEY"])
    _assert_sealed_opens_with_no_found_key(blobs, instance, run)
    # SQLite keeps no copy of a sealed ballot either: freed space is zeroed and the WAL emptied.
    joined = b"\n".join(blobs)
    assert not [b for b in run["sealed"] if b in joined]
    wal = copy / "gongyi.sqlite3-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    with app.app_context():
        db.engine.dispose()


def _pg_files(app, start_lsn: str) -> list[bytes]:
    """The raw files of the test schema's tables, and the WAL written since start_lsn."""
    with app.app_context():
        db.session.execute(text("CHECKPOINT"))  # dead tuples and all: on disk, as a copy would find them
        data_dir = Path(db.session.execute(text("SHOW data_directory")).scalar())
        paths = [r[0] for r in db.session.execute(text(
            "SELECT pg_relation_filepath(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 't', 'i') "
            "AND pg_relation_filepath(c.oid) IS NOT NULL"))]
        end_lsn = db.session.execute(text("SELECT pg_current_wal_lsn()")).scalar()
        segments = [r[0] for r in db.session.execute(text(
            "SELECT name FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$' AND name >= pg_walfile_name(:a) "
            "AND name <= pg_walfile_name(:b) ORDER BY name"), {"a": start_lsn, "b": end_lsn})]
        db.session.remove()
    blobs = []
    for rel in paths:
        for f in sorted((data_dir / rel).parent.glob(Path(rel).name + "*")):
            blobs.append(f.read_bytes())
    for name in segments:
        blobs.append((data_dir / "pg_wal" / name).read_bytes())
    return blobs


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only (TEST_DATABASE_URL)")
def test_carving_postgres_table_files_and_wal_after_close_links_no_voter_to_a_choice():
    schema = "carving"
    folder = Path(tempfile.mkdtemp(prefix="gongyi-carve-"))

    class Cfg(TestConfig):
        SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"options": f"-csearch_path={schema}"}}
        POLL_KEY_DIR = str(folder / "poll-keys")
        POLL_KEY_REDIS_URL = None

    app = create_app(Cfg)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        db.create_all()
        # The WAL is the whole server's: other databases' polls are in it too. Voters with
        # ids no other database uses keep their voting units ("p<id>") apart from those.
        db.session.execute(text(f"ALTER SEQUENCE person_id_seq RESTART WITH {secrets.randbelow(10**9) + 10**9}"))
        db.session.commit()
        data_dir = Path(db.session.execute(text("SHOW data_directory")).scalar())
        start_lsn = db.session.execute(text("SELECT pg_current_wal_lsn()")).scalar()
        db.session.remove()
    if not os.access(data_dir, os.R_OK):
        pytest.skip("the database server's files cannot be read here")
    try:
        run = _run_poll(app)
        blobs = _pg_files(app, start_lsn)
        assert sum(len(b) for b in blobs) > 0
        instance = _instance_files(folder) + _instance_files(Path(os.environ["GONGYI_INSTANCE"]))
        _assert_nothing_links(blobs, instance, run, app.config["SECRET_KEY"])
        _assert_sealed_opens_with_no_found_key(blobs, instance, run)
    finally:
        with app.app_context():
            db.session.remove()
            with db.engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            db.engine.dispose()
