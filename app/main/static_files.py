"""Fingerprinted static URLs: a file's URL changes when its content does, so it can be
cached for a year."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import current_app, url_for


@lru_cache(maxsize=256)
def _digest(path: str, mtime: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


def static_url(filename: str) -> str:
    full = Path(current_app.static_folder) / filename
    version = _digest(str(full), full.stat().st_mtime) if full.exists() else "0"
    return url_for("static", filename=filename, v=version)
