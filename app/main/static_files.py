"""Fingerprinted static URLs: a file's URL changes when its content does, so it can be
cached for a year and never asked for again ("immutable")."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import current_app, request, url_for

YEAR = 365 * 24 * 3600


@lru_cache(maxsize=256)
def _digest(path: str, mtime: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


def fingerprint(filename: str) -> str | None:
    full = Path(current_app.static_folder) / filename
    try:
        return _digest(str(full), full.stat().st_mtime)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def static_url(filename: str) -> str:
    return url_for("static", filename=filename, v=fingerprint(filename) or "0")


def cache_headers(response):
    """A request for the current fingerprint is cached for a year without revalidation;
    any other static request (old fingerprint, none at all) must revalidate, so a phone
    never keeps an outdated file under a name that is still in use."""
    if request.endpoint != "static" or response.status_code not in (200, 304):
        return response
    filename = (request.view_args or {}).get("filename", "")
    version = request.args.get("v")
    if version and version == fingerprint(filename):
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    return response
