"""The shared permission machinery: every area's permissions.py registers its plain
`can_*(user, obj) -> bool` functions here; views call `require()`, templates get the
same functions from a context processor, so a button shows exactly when it is allowed."""
from __future__ import annotations

from typing import Callable

from flask import abort

REGISTRY: dict[str, Callable[..., bool]] = {}


def permission(fn: Callable[..., bool]) -> Callable[..., bool]:
    REGISTRY[fn.__name__] = fn
    return fn


def require(allowed: bool) -> None:
    """403 unless allowed."""
    if not allowed:
        abort(403)


def template_permissions() -> dict[str, Callable[..., bool]]:
    return dict(REGISTRY)
