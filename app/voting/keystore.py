"""Where a secret poll's key lives while the poll is open: never in the database.

A secret ballot is stored sealed (AES-256-GCM) under a per-poll key. The database's
files, its WAL, dead tuples and any point-in-time-recovery archive therefore hold only
ciphertext; the key lives outside the database and is destroyed when the poll closes
(docs/voting-security.md says what that protects and what it does not).

- With REDIS_URL set (several app machines): the key is a Redis string
  `gongyi:poll-key:<poll id>:<key id>`. Redis must run without persistence
  (`save ""`, `appendonly no`), so it never writes the key to disk.
- Without Redis (one machine, any number of gunicorn workers): a file
  `<instance>/poll-keys/<poll id>-<key id>.key`, mode 0600, overwritten with zeros and
  unlinked when the poll closes.

If the store loses a key while the poll is open (Redis restarted), `services` starts
a new key for the rest of the poll and tells every voter whose ballot was sealed
under the lost one to vote again (their participation row stays, so nobody can get
two counted ballots).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

KEY_BYTES = 32
NONCE_BYTES = 12
# Every choice is padded to the same length before sealing, so the ciphertext's
# length cannot tell "no" (2 letters) from "abstain" (7).
PLAIN_BYTES = 8


def new_key_id() -> str:
    """The key's public name (stored in the database): says nothing about the key."""
    return secrets.token_hex(8)


class FileKeyStore:
    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def _path(self, poll_id: int, key_id: str) -> Path:
        return self.folder / f"{int(poll_id)}-{key_id}.key"

    def create(self, poll_id: int, key_id: str) -> bytes:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
        fd = os.open(self._path(poll_id, key_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
            fh.flush()
            os.fsync(fh.fileno())
        return key

    def get(self, poll_id: int, key_id: str) -> bytes | None:
        try:
            key = self._path(poll_id, key_id).read_bytes()
        except FileNotFoundError:
            return None
        return key if len(key) == KEY_BYTES else None

    def destroy(self, poll_id: int, key_id: str) -> None:
        path = self._path(poll_id, key_id)
        try:
            fd = os.open(path, os.O_WRONLY)
        except FileNotFoundError:
            return
        try:  # overwrite in place before unlinking (see docs: what this does on a journaling filesystem)
            size = os.fstat(fd).st_size
            os.write(fd, b"\0" * max(size, KEY_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        path.unlink(missing_ok=True)

    def stored(self) -> list[tuple[int, str]]:
        """(poll id, key id) of every key still in the store."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.glob("*.key"):
            poll_id, _sep, key_id = path.stem.partition("-")
            if poll_id.isdigit() and key_id:
                found.append((int(poll_id), key_id))
        return found


class RedisKeyStore:
    PREFIX = "gongyi:poll-key:"

    def __init__(self, url: str):
        import redis

        self.redis = redis.Redis.from_url(url)

    def _name(self, poll_id: int, key_id: str) -> str:
        return f"{self.PREFIX}{int(poll_id)}:{key_id}"

    def create(self, poll_id: int, key_id: str) -> bytes:
        key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
        if not self.redis.set(self._name(poll_id, key_id), key, nx=True):
            raise RuntimeError("poll key already exists")
        return key

    def get(self, poll_id: int, key_id: str) -> bytes | None:
        key = self.redis.get(self._name(poll_id, key_id))
        return key if key is not None and len(key) == KEY_BYTES else None

    def destroy(self, poll_id: int, key_id: str) -> None:
        self.redis.delete(self._name(poll_id, key_id))

    def stored(self) -> list[tuple[int, str]]:
        found = []
        for name in self.redis.scan_iter(match=f"{self.PREFIX}*"):
            poll_id, _sep, key_id = name.decode()[len(self.PREFIX):].partition(":")
            if poll_id.isdigit() and key_id:
                found.append((int(poll_id), key_id))
        return found


def get_store():
    """The app's key store (one per app, chosen by the configuration)."""
    store = current_app.extensions.get("gongyi_poll_keys")
    if store is None:
        url = current_app.config.get("POLL_KEY_REDIS_URL")
        store = RedisKeyStore(url) if url else FileKeyStore(current_app.config["POLL_KEY_DIR"])
        current_app.extensions["gongyi_poll_keys"] = store
    return store


def _aad(poll_id: int, unit_key: str, key_id: str) -> bytes:
    # Binds the sealed choice to its poll and voting unit: a sealed ballot moved to
    # another row does not open.
    return f"gongyi-ballot:{int(poll_id)}:{unit_key}:{key_id}".encode()


def seal(key: bytes, poll_id: int, unit_key: str, key_id: str, choice: str) -> bytes:
    plain = choice.encode().ljust(PLAIN_BYTES, b"\0")
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plain, _aad(poll_id, unit_key, key_id))


def unseal(key: bytes, poll_id: int, unit_key: str, key_id: str, sealed: bytes) -> str:
    """:raises cryptography.exceptions.InvalidTag: wrong key, or the row was altered."""
    nonce, body = bytes(sealed[:NONCE_BYTES]), bytes(sealed[NONCE_BYTES:])
    return AESGCM(key).decrypt(nonce, body, _aad(poll_id, unit_key, key_id)).rstrip(b"\0").decode()
