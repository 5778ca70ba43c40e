"""Signed checkpoints of the audit chain (检查点), the anchor outside the database.

Anyone with write access to the database can rewrite an old event and recompute every
later hash, or cut the end of the chain: the chain alone cannot tell. A checkpoint is
the chain's head (seq, hash) at a moment, signed with an Ed25519 key kept outside the
database, and printed where people keep it: the notice board, every printed notice,
every record export and the township's filing. Whoever kept one can later prove that
today's chain still contains that head (`flask --app wsgi audit verify --checkpoint`).

The text form, also the QR code's content, is one line:
    gongyi-checkpoint:SEQ:HASH:UNIX_TIME:SIGNATURE
and the signature (hex) is over `gongyi-checkpoint:SEQ:HASH:UNIX_TIME` in UTF-8.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app
from sqlalchemy import select

from app import clock
from app.accounts.models import utcnow
from app.extensions import db
from app.records.models import AuditCheckpoint, AuditHead

PREFIX = "gongyi-checkpoint"


class CheckpointError(ValueError):
    """A checkpoint given on the command line or in a file is not well formed."""


@dataclass(frozen=True)
class Claim:
    """A checkpoint as someone kept it: at least SEQ:HASH; the time and signature when
    they kept the whole line."""

    seq: int
    head_hash: str
    unix_time: int | None = None
    signature: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Claim":
        """`SEQ:HASH` or the whole line `gongyi-checkpoint:SEQ:HASH:TIME:SIGNATURE`.

        :raises CheckpointError: anything else.
        """
        parts = text.strip().split(":")
        if parts and parts[0] == PREFIX:
            parts = parts[1:]
        try:
            if len(parts) not in (2, 4):
                raise ValueError
            seq, head = int(parts[0]), parts[1].lower()
            bytes.fromhex(head)
            if seq < 1 or len(head) != 64:
                raise ValueError
            if len(parts) == 4:
                return cls(seq, head, int(parts[2]), parts[3].lower())
            return cls(seq, head)
        except ValueError:
            raise CheckpointError(f"not a checkpoint (SEQ:HASH or {PREFIX}:SEQ:HASH:TIME:SIGNATURE): {text!r}")


def checkpoint_message(seq: int, head_hash: str, unix_time: int) -> bytes:
    return f"{PREFIX}:{seq}:{head_hash}:{unix_time}".encode("utf-8")


def _unix(at: datetime) -> int:
    return int(at.replace(tzinfo=timezone.utc).timestamp())


def checkpoint_line(cp: AuditCheckpoint) -> str:
    """The one-line text form printed under the QR code (and its content)."""
    return f"{PREFIX}:{cp.seq}:{cp.head_hash}:{_unix(cp.signed_at)}:{cp.signature}"


# --- The key -----------------------------------------------------------------------

def _private_key() -> Ed25519PrivateKey:
    configured = current_app.config.get("AUDIT_SIGNING_KEY")
    if configured:
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(configured.strip()))
    path = Path(current_app.config["AUDIT_SIGNING_KEY_FILE"])
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker made it first
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def public_key_hex() -> str:
    """The installation's public key as 64 hex digits (raw Ed25519 bytes)."""
    raw = _private_key().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def signature_valid(public_key: str, seq: int, head_hash: str, unix_time: int, signature: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(
            bytes.fromhex(signature), checkpoint_message(seq, head_hash, unix_time))
        return True
    except (InvalidSignature, ValueError):
        return False


# --- Signing and reading -----------------------------------------------------------

def sign_checkpoint(now: datetime | None = None) -> AuditCheckpoint | None:
    """Sign the chain's current head (flushes, never commits); None for an empty chain."""
    head = db.session.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None or head.seq == 0:
        return None
    at = (now or utcnow()).replace(microsecond=0)
    key = _private_key()
    signature = key.sign(checkpoint_message(head.seq, head.hash, _unix(at))).hex()
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    cp = AuditCheckpoint(seq=head.seq, head_hash=head.hash, signed_at=at, signature=signature, public_key=public)
    db.session.add(cp)
    db.session.flush()
    return cp


def current_checkpoint() -> AuditCheckpoint | None:
    """The latest signed checkpoint: what the notice board, notices, exports and filings show."""
    return db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc(),
                                                               AuditCheckpoint.id.desc()).limit(1)).first()


def checkpoint_dict(cp: AuditCheckpoint | None) -> dict | None:
    """The checkpoint as a record export carries it."""
    if cp is None:
        return None
    return {"seq": cp.seq, "head_hash": cp.head_hash,
            "signed_at": clock.isoformat(cp.signed_at),
            "signature": cp.signature, "public_key": cp.public_key, "line": checkpoint_line(cp)}


def checkpoint_text(d: dict | None) -> str:
    """The checkpoint as the Chinese PDF prints it (one paragraph)."""
    if d is None:
        return "审计链检查点：尚未签发"
    return f"审计链检查点（导出时最新，已签名）：{d['line']}　公钥：{d['public_key']}"


def stored_checkpoints() -> list[Claim]:
    rows = db.session.execute(select(AuditCheckpoint.seq, AuditCheckpoint.head_hash, AuditCheckpoint.signed_at,
                                     AuditCheckpoint.signature).order_by(AuditCheckpoint.id)).all()
    return [Claim(seq, head, _unix(at), sig) for seq, head, at, sig in rows]


def check_checkpoints(given: list[Claim], stored: list[Claim], hashes: dict[int, str],
                      last_seq: int | None) -> tuple[list[str], int]:
    """Problems with the given and stored checkpoints: a bad signature, or a head the
    chain no longer contains (last_seq None: the chain itself is broken, so only the
    signatures are checked). Returns (problems, how many were checked)."""
    problems: list[str] = []
    public = public_key_hex()
    by_seq = {c.seq: c for c in stored}
    for origin, claims in (("given", given), ("stored", stored)):
        for c in claims:
            name = f"checkpoint {c.seq}:{c.head_hash[:16]}… ({origin})"
            signed = c if c.signature else by_seq.get(c.seq) if origin == "given" else None
            if signed is not None and signed.head_hash == c.head_hash and not signature_valid(
                    public, signed.seq, signed.head_hash, signed.unix_time, signed.signature):
                problems.append(f"{name}: its signature does not verify with the installation's public key")
            if last_seq is None:
                continue
            if c.seq > last_seq:
                problems.append(f"{name}: the chain now ends at event {last_seq}, before this checkpoint's head: "
                                "events were cut from its end")
            elif hashes.get(c.seq) != c.head_hash:
                problems.append(f"{name}: event {c.seq} no longer has this hash: the history before it was "
                                "rewritten")
    return problems, len(given) + len(stored)
