"""Sign-in limits that every process and machine shares.

A count kept in each process's memory would let every gunicorn worker count on its
own. Here the counts live where every worker sees them:

- with REDIS_URL (several machines): Redis, through the `limits` library's moving
  window;
- without Redis (one machine, any number of workers): the `login_failure` table,
  counted and written in the same write transaction (SQLite's BEGIN IMMEDIATE, or a
  PostgreSQL advisory lock on the key), so concurrent workers cannot both slip past.

What counts (config): wrong passwords and wrong codes per account and per address
(only failures: 200 villagers signing in correctly from one hall are never stopped),
and code requests per account and per address (each request sends a text message).
Keys are stored as HMACs under the app's secret key, never as phone numbers.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import limits
from flask import current_app
from sqlalchemy import delete, func, select, text

from app.accounts.models import LoginFailure, utcnow
from app.extensions import db

# scope → the config entry with its limit ("5 per 15 minutes")
SCOPES = {
    "account": "LOGIN_LIMIT_PER_ACCOUNT",
    "address": "LOGIN_LIMIT_PER_ADDRESS",
    "code-acct": "CODE_LIMIT_PER_ACCOUNT",
    "code-addr": "CODE_LIMIT_PER_ADDRESS",
}


def _item(scope: str) -> limits.RateLimitItem:
    return limits.parse(current_app.config[SCOPES[scope]])


def _key(value: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()


def _redis():
    limiter = current_app.extensions.get("gongyi_throttle")
    if limiter is None:
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        limiter = MovingWindowRateLimiter(storage_from_string(current_app.config["THROTTLE_REDIS_URL"]))
        current_app.extensions["gongyi_throttle"] = limiter
    return limiter


def _lock(key: str) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


def _window(item: limits.RateLimitItem) -> timedelta:
    return timedelta(seconds=item.get_expiry())


def exceeded(scope: str, value: str) -> bool:
    """True when `value` (a phone number or an address) used up its tries in `scope`."""
    item, key = _item(scope), _key(value)
    if current_app.config.get("THROTTLE_REDIS_URL"):
        return not _redis().test(item, scope, key)
    _lock(key)
    since = utcnow() - _window(item)
    n = db.session.scalar(select(func.count()).select_from(LoginFailure)
                          .where(LoginFailure.scope == scope, LoginFailure.key == key, LoginFailure.at > since))
    return (n or 0) >= item.amount


def record(scope: str, value: str) -> None:
    """Count one try (a failure, or a code request) against `value` in `scope`; the
    caller commits. Old rows of the key are removed on the way."""
    item, key = _item(scope), _key(value)
    if current_app.config.get("THROTTLE_REDIS_URL"):
        _redis().hit(item, scope, key)
        return
    _lock(key)
    now = utcnow()
    db.session.execute(delete(LoginFailure).where(LoginFailure.scope == scope, LoginFailure.key == key,
                                                  LoginFailure.at <= now - _window(item)))
    db.session.add(LoginFailure(scope=scope, key=key, at=now))
    db.session.flush()
