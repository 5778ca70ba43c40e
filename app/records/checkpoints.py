"""Signed checkpoints of the audit chains (检查点), the anchor outside the database.

Anyone with write access to the database can rewrite an old event and recompute every
later hash, or cut the end of a chain: the chain alone cannot tell. A checkpoint is one
chain's head (chain, seq, hash) at a moment, signed with an Ed25519 key kept outside
the database, and printed where people keep it: the village's notice board, every
printed notice, every record export and the township's filing. Whoever kept one can
later prove that today's chain still contains that head
(`flask --app wsgi audit verify --checkpoint`).

The text form, also the QR code's content, is one line:
    gongyi-checkpoint:CHAIN:SEQ:HASH:UNIX_TIME:SIGNATURE
and the signature (hex) is over `gongyi-checkpoint:CHAIN:SEQ:HASH:UNIX_TIME` in UTF-8.
The installation chain ("i") keeps the form without CHAIN, which is what every
checkpoint signed before there were chains says.
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
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app import clock
from app.accounts.models import utcnow
from app.extensions import db
from app.records.audit import CHAIN_RE, INSTALLATION, chain_key
from app.records.models import AuditCheckpoint, AuditHead

PREFIX = "gongyi-checkpoint"


class CheckpointError(ValueError):
    """A checkpoint given on the command line or in a file is not well formed."""


@dataclass(frozen=True)
class Claim:
    """A checkpoint as someone kept it: at least [CHAIN:]SEQ:HASH; the time and
    signature when they kept the whole line. No CHAIN: the installation chain."""

    seq: int
    head_hash: str
    unix_time: int | None = None
    signature: str | None = None
    chain: str = INSTALLATION

    @classmethod
    def parse(cls, text: str) -> "Claim":
        """`[CHAIN:]SEQ:HASH` or the whole line `gongyi-checkpoint:[CHAIN:]SEQ:HASH:TIME:SIGNATURE`.

        :raises CheckpointError: anything else.
        """
        parts = text.strip().split(":")
        if parts and parts[0] == PREFIX:
            parts = parts[1:]
        try:
            chain = INSTALLATION
            if len(parts) in (3, 5):
                chain, parts = parts[0].lower(), parts[1:]
                if not CHAIN_RE.match(chain):
                    raise ValueError
            if len(parts) not in (2, 4):
                raise ValueError
            seq, head = int(parts[0]), parts[1].lower()
            bytes.fromhex(head)
            if seq < 1 or len(head) != 64:
                raise ValueError
            if len(parts) == 4:
                return cls(seq, head, int(parts[2]), parts[3].lower(), chain)
            return cls(seq, head, chain=chain)
        except ValueError:
            raise CheckpointError(f"not a checkpoint ([CHAIN:]SEQ:HASH or "
                                  f"{PREFIX}:[CHAIN:]SEQ:HASH:TIME:SIGNATURE): {text!r}")

    @property
    def name(self) -> str:
        return f"{self.chain}:{self.seq}:{self.head_hash[:16]}…"


def _chain_part(chain: str) -> str:
    return "" if chain == INSTALLATION else f"{chain}:"


def checkpoint_message(chain: str, seq: int, head_hash: str, unix_time: int) -> bytes:
    return f"{PREFIX}:{_chain_part(chain)}{seq}:{head_hash}:{unix_time}".encode("utf-8")


def _unix(at: datetime) -> int:
    return int(at.replace(tzinfo=timezone.utc).timestamp())


def checkpoint_line(cp: AuditCheckpoint) -> str:
    """The one-line text form printed under the QR code (and its content)."""
    return f"{PREFIX}:{_chain_part(cp.chain)}{cp.seq}:{cp.head_hash}:{_unix(cp.signed_at)}:{cp.signature}"


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


def signature_valid(public_key: str, claim: Claim) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(
            bytes.fromhex(claim.signature),
            checkpoint_message(claim.chain, claim.seq, claim.head_hash, claim.unix_time))
        return True
    except (InvalidSignature, ValueError):
        return False


# --- Signing and reading -----------------------------------------------------------

def _sign(chain: str, seq: int, head_hash: str, now: datetime | None) -> AuditCheckpoint:
    at = (now or utcnow()).replace(microsecond=0)
    key = _private_key()
    signature = key.sign(checkpoint_message(chain, seq, head_hash, _unix(at))).hex()
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    cp = AuditCheckpoint(chain=chain, seq=seq, head_hash=head_hash, signed_at=at, signature=signature,
                         public_key=public)
    db.session.add(cp)
    return cp


def sign_checkpoints(chains=None, now: datetime | None = None) -> list[AuditCheckpoint]:
    """Sign the current head of each given chain (flushes, never commits); with no
    chains given, of every chain whose head moved since its last checkpoint (the daily
    job). Empty chains are never signed."""
    head = AuditHead.__table__
    q = select(head.c.chain, head.c.seq, head.c.hash).where(head.c.seq > 0).order_by(head.c.chain)
    if chains is not None:
        q = q.where(head.c.chain.in_(list(chains)))
    else:
        last = (select(AuditCheckpoint.chain, func.max(AuditCheckpoint.seq).label("seq"))
                .group_by(AuditCheckpoint.chain).subquery())
        q = q.outerjoin(last, last.c.chain == head.c.chain).where((last.c.seq.is_(None)) | (last.c.seq < head.c.seq))
    signed = [_sign(chain, seq, head_hash, now) for chain, seq, head_hash in db.session.execute(q)]
    db.session.flush()
    return signed


def sign_checkpoint(chain: str = INSTALLATION, now: datetime | None = None) -> AuditCheckpoint | None:
    """Sign one chain's current head (flushes, never commits); None for an empty chain."""
    signed = sign_checkpoints([chain], now)
    return signed[0] if signed else None


def current_checkpoint(chain: str = INSTALLATION) -> AuditCheckpoint | None:
    """The chain's latest signed checkpoint."""
    return db.session.scalars(select(AuditCheckpoint).where(AuditCheckpoint.chain == chain)
                              .order_by(AuditCheckpoint.seq.desc(), AuditCheckpoint.id.desc()).limit(1)).first()


def village_checkpoint(village) -> AuditCheckpoint | None:
    """What the village's notice board, notices, exports and filings show: the latest
    checkpoint of its chain; before the first one, the installation chain's, which
    holds the village's events from before there were chains. With no village (the
    overseer's chain check), the latest checkpoint signed of any chain."""
    if village is None:
        return db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)).first()
    return current_checkpoint(chain_key(village.id, None)) or current_checkpoint()


def latest_checkpoints() -> list[AuditCheckpoint]:
    """The latest checkpoint of every chain that has one, in chain order."""
    latest = (select(func.max(AuditCheckpoint.id)).group_by(AuditCheckpoint.chain)).scalar_subquery()
    return list(db.session.scalars(select(AuditCheckpoint).where(AuditCheckpoint.id.in_(latest))
                                   .order_by(AuditCheckpoint.chain)))


def checkpoint_dict(cp: AuditCheckpoint | None) -> dict | None:
    """The checkpoint as a record export carries it."""
    if cp is None:
        return None
    return {"chain": cp.chain, "seq": cp.seq, "head_hash": cp.head_hash,
            "signed_at": clock.isoformat(cp.signed_at),
            "signature": cp.signature, "public_key": cp.public_key, "line": checkpoint_line(cp)}


def checkpoint_text(d: dict | None) -> str:
    """The checkpoint as the Chinese PDF prints it (one paragraph)."""
    if d is None:
        return "审计链检查点：尚未签发"
    return f"审计链检查点（导出时本村审计链最新，已签名）：{d['line']}　公钥：{d['public_key']}"


def stored_checkpoints() -> list[Claim]:
    rows = db.session.execute(select(AuditCheckpoint.chain, AuditCheckpoint.seq, AuditCheckpoint.head_hash,
                                     AuditCheckpoint.signed_at, AuditCheckpoint.signature)
                              .order_by(AuditCheckpoint.id)).all()
    return [Claim(seq, head, _unix(at), sig, chain) for chain, seq, head, at, sig in rows]


def check_checkpoints(given: list[Claim], stored: list[Claim], hashes: dict[tuple[str, int], str],
                      last_seqs: dict[str, int] | None) -> tuple[list[str], int]:
    """Problems with the given and stored checkpoints: a bad signature, or a head its
    chain no longer contains (last_seqs None: the chains themselves are broken, so only
    the signatures are checked). `hashes` maps (chain, seq) to the event's hash, and
    `last_seqs` each chain to its last seq. Returns (problems, how many were checked)."""
    problems: list[str] = []
    public = public_key_hex()
    by_key = {(c.chain, c.seq): c for c in stored}
    for origin, claims in (("given", given), ("stored", stored)):
        for c in claims:
            name = (_l("checkpoint %(name)s (given)", name=c.name) if origin == "given"
                    else _l("checkpoint %(name)s (stored)", name=c.name))
            signed = c if c.signature else by_key.get((c.chain, c.seq)) if origin == "given" else None
            if signed is not None and signed.head_hash == c.head_hash and not signature_valid(public, signed):
                problems.append(_l("%(name)s: its signature does not verify with the installation's public key",
                                   name=name))
            if last_seqs is None:
                continue
            last = last_seqs.get(c.chain, 0)
            if c.seq > last:
                problems.append(_l("%(name)s: chain %(chain)s now ends at event %(last)s, before this "
                                   "checkpoint's head: events were cut from its end",
                                   name=name, chain=c.chain, last=last))
            elif hashes.get((c.chain, c.seq)) != c.head_hash:
                problems.append(_l("%(name)s: event %(seq)s of chain %(chain)s no longer has this hash: the "
                                   "history before it was rewritten", name=name, seq=c.seq, chain=c.chain))
    return problems, len(given) + len(stored)
