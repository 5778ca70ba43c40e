"""Pluggable message backend for one-time codes and notifications.

"log" (default) writes the message to the application log, where a developer or the
village clerk can read it; "memory" keeps messages in a list (tests); any other value is
a dotted path "package.module:Class" to a class with `send(phone, text)` — a real SMS
gateway plugs in there.
"""
from __future__ import annotations

import importlib
import logging

from flask import current_app

log = logging.getLogger("gongyi.messages")


class LogBackend:
    def send(self, phone: str, text: str) -> None:
        log.warning("message to %s: %s", phone, text)


class MemoryBackend:
    def __init__(self) -> None:
        self.outbox: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        self.outbox.append((phone, text))


def get_backend():
    app = current_app._get_current_object()
    backend = app.extensions.get("gongyi_messages")
    if backend is None:
        name = app.config.get("MESSAGE_BACKEND", "log")
        if name == "log":
            backend = LogBackend()
        elif name == "memory":
            backend = MemoryBackend()
        else:
            module, _, cls = name.partition(":")
            backend = getattr(importlib.import_module(module), cls)()
        app.extensions["gongyi_messages"] = backend
    return backend


def send_message(phone: str, text: str) -> None:
    get_backend().send(phone, text)
