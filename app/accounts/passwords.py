"""Password hashing (argon2id) and the password policy."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn

MIN_LENGTH = 8
# zxcvbn refuses (ValueError) passwords over 72 characters and gets slow well before;
# a pass phrase of 128 characters is more than anyone types on a phone.
MAX_LENGTH = 128

# Passwords common in China that zxcvbn's (English-centred) lists rate too kindly.
COMMON_CN = {
    "woaini1314", "5201314", "woaini520", "woaini123", "woaini1314520", "1314520", "520520520",
    "a123456789", "aa123456", "qq123456", "qq5201314", "abc123456", "zxc123456", "123456abc",
    "wang123456", "zhang123456", "li123456", "liu123456", "chen123456", "huang123456",
    "woshishui", "iloveyou1314", "88888888", "66666666", "168168168", "1qaz2wsx", "1q2w3e4r",
    "a1234567", "asd123456", "qwe123456", "password123", "admin123", "admin888", "cunmin123",
    "nongcun123", "gongyi123", "12345678a", "123qweasd", "147258369", "159357456",
}

_fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
# argon2id at OWASP's recommended minimum (19 MiB, 2 passes): about 50 ms on a small
# server core, so a village meeting's worth of sign-ins does not queue.
_strong = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def _hasher() -> PasswordHasher:
    return _fast if current_app.config.get("ARGON2_FAST") else _strong


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        # Spend about the same time as a real check, so a missing account is not revealed.
        _hasher().hash(password)
        return False
    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, phone: str = "", name: str = "") -> str | None:
    """Why this password may not be used, in the reader's language; None if it may."""
    if len(password) < MIN_LENGTH:
        return str(_l("The password must have at least %(n)d characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        return str(_l("The password may have at most %(n)d characters.", n=MAX_LENGTH))
    lowered = password.lower()
    if lowered in COMMON_CN or (phone and phone in password):
        return str(_l("This password is too common or too easy to guess. Please choose another."))
    # zxcvbn itself stops at 72 characters; a longer (allowed) one is judged on its start.
    if zxcvbn(password[:72], user_inputs=[x for x in (phone, name) if x])["score"] < 2:
        return str(_l("This password is too common or too easy to guess. Please choose another."))
    return None
