"""Work a request must not repeat: parsing the wtforms catalogue, pinging the database."""
from __future__ import annotations

from babel import support

from app import create_app
from app.config import Config


def test_the_wtforms_catalogue_is_read_once_not_on_every_request(app, monkeypatch):
    from flask_wtf import FlaskForm
    from wtforms import StringField
    from wtforms.validators import DataRequired

    from app import i18n

    class Named(FlaskForm):
        class Meta:
            csrf = False

        name = StringField(validators=[DataRequired()])

    loads = []
    original = support.Translations.load

    def counting(dirname=None, locales=None, domain=None):
        if domain == "wtforms":
            loads.append(locales)
        return original(dirname, locales, domain)

    monkeypatch.setattr(support.Translations, "load", staticmethod(counting))
    i18n._wtforms_catalogue.cache_clear()
    errors = []
    for _ in range(3):  # three requests, each refusing an empty field with wtforms' own words
        with app.test_request_context("/", method="POST", data={"name": ""}):
            app.preprocess_request()
            form = Named()
            assert not form.validate()
            errors.append(form.name.errors[0])
    assert len(loads) == 1, loads
    assert errors == ["该字段是必填字段。"] * 3, errors


def test_the_pool_does_not_ping_the_database_on_every_checkout():
    assert Config.SQLALCHEMY_ENGINE_OPTIONS.get("pool_pre_ping") is False
    application = create_app(Config)
    with application.app_context():
        from app.extensions import db

        assert db.engine.pool._pre_ping is False
