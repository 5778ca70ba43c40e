"""Shared fixtures: app, db, client, runner, login_as.

The schema is created once per run; each test runs inside an outer transaction and
the app's session works in savepoints, so a test's rows vanish when it ends (on SQLite
and on PostgreSQL alike). Tests that must commit for real (concurrency) use
`committing_app`, which gets a database of its own.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from flask import g
from flask.testing import FlaskClient
from flask.globals import app_ctx
from sqlalchemy import text
from sqlalchemy.orm import scoped_session, sessionmaker

_TMP = Path(tempfile.mkdtemp(prefix="gongyi-tests-"))
os.environ.setdefault("GONGYI_INSTANCE", str(_TMP / "instance"))
if not os.environ.get("TEST_DATABASE_URL"):
    os.environ["TEST_DATABASE_URL"] = f"sqlite:///{_TMP / 'test.sqlite3'}"

from app import create_app  # noqa: E402
from app.config import TestConfig  # noqa: E402
from app.extensions import db as _db  # noqa: E402

ON_POSTGRES = os.environ["TEST_DATABASE_URL"].startswith("postgres")


def _reset_schema(app):
    with app.app_context():
        if ON_POSTGRES:
            with _db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        else:
            _db.drop_all()
        _db.create_all()
        from app.schema_extras import install_database_rules

        install_database_rules(_db.engine)


class CommittingClient(FlaskClient):
    """Commits the test's set-up before each request, as data a real request meets is
    committed: a view that rolls back then discards only its own work, not the set-up
    (the outer transaction still removes everything when the test ends)."""

    def open(self, *args, **kwargs):
        if _db.session.registry.has():
            _db.session.commit()
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app():
    application = create_app(TestConfig)
    application.test_client_class = CommittingClient
    _reset_schema(application)

    @application.before_request
    def _empty_g():
        # Tests keep one app context open around their requests (so they share the
        # test's database session); a real request always starts with an empty `g`.
        for name in list(vars(g)):
            delattr(g, name)

    return application


@pytest.fixture()
def db(app):
    """The app's db, its session bound to one connection whose outer transaction is
    rolled back after the test."""
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        original = _db.session
        # A plain SQLAlchemy session: Flask-SQLAlchemy's own would pick the engine, not
        # this connection. Requests reuse the test's app context, hence this session.
        _db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=lambda: id(app_ctx._get_current_object()),
        )
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original
            if outer.is_active:
                outer.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def _fresh_counters(app):
    with app.app_context():
        backend = app.extensions.get("gongyi_messages")
        if backend is not None and hasattr(backend, "outbox"):
            backend.outbox.clear()
    yield


@pytest.fixture()
def client(app, db):
    return app.test_client()


@pytest.fixture()
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture()
def outbox(app, db):
    from app.accounts.messaging import get_backend

    with app.test_request_context():
        return get_backend().outbox


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no CSRF token on the page"
    return m.group(1) or m.group(2)


def code_from(message: str) -> str:
    """The 6-digit one-time code inside a text message."""
    m = re.search(r"(?<!\d)(\d{6})(?!\d)", message)
    assert m, message
    return m.group(1)


class Browser:
    """A test client that remembers the last page's CSRF token, as a browser would."""

    def __init__(self, client):
        self.client = client
        self.token = None

    def get(self, url, **kw):
        resp = self.client.get(url, **kw)
        html = resp.get_data(as_text=True)
        m = CSRF_RE.search(html)
        if m:
            self.token = m.group(1) or m.group(2)
        return resp

    def post(self, url, data=None, **kw):
        if self.token is None:
            self.get("/login")
        data = dict(data or {})
        data.setdefault("csrf_token", self.token)
        return self.client.post(url, data=data, **kw)


@pytest.fixture()
def browser(client):
    return Browser(client)


@pytest.fixture()
def login_as(client):
    """Sign a person in on `client` through the real login page; whoever was signed in
    there before is forgotten, other cookies (language, text size) stay. For a second
    browser at the same time, use `app.test_client()`."""
    from tests.factories import PASSWORD

    def _login(person, password=PASSWORD):
        for name in ("session", "remember_token"):
            client.delete_cookie(name)
        b = Browser(client)
        b.get("/login")
        resp = b.post("/login", {"phone": person.phone, "password": password})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        b.get("/")
        return b

    return _login


@pytest.fixture()
def committing_app():
    """An app with a database of its own whose transactions really commit."""
    if ON_POSTGRES:
        url = os.environ["TEST_DATABASE_URL"]
        schema = "committing"

        class Cfg(TestConfig):
            SQLALCHEMY_DATABASE_URI = TestConfig.SQLALCHEMY_DATABASE_URI
            SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"options": f"-csearch_path={schema}"}}

        application = create_app(Cfg)
        with application.app_context():
            with _db.engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            _db.create_all()
        yield application
        with application.app_context():
            _db.session.remove()
            with _db.engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            _db.engine.dispose()
        del url
    else:
        path = Path(tempfile.mkdtemp(prefix="gongyi-commit-")) / "db.sqlite3"

        class Cfg(TestConfig):
            SQLALCHEMY_DATABASE_URI = f"sqlite:///{path}"

        application = create_app(Cfg)
        with application.app_context():
            _db.create_all()
        yield application
        with application.app_context():
            _db.session.remove()
            _db.engine.dispose()
