"""Application factory."""
from __future__ import annotations

import logging

from flask import Flask

from app.config import DevConfig, _instance_secret_key


def create_app(config_class=DevConfig) -> Flask:
    app = Flask(__name__, template_folder="../templates", instance_relative_config=False)
    from app.inputs import DbIdConverter

    app.url_map.converters["int"] = DbIdConverter  # before any route: every <int:…> is a database id
    app.config.from_object(config_class)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("gongyi").setLevel(logging.INFO)

    from app import clock, database, i18n, security
    from app.extensions import babel, compress, csrf, db, htmx, login_manager, migrate

    app.config["BABEL_TRANSLATION_DIRECTORIES"] = i18n.translation_directories(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.config.get("MIGRATIONS_DIR", "migrations")),
                     render_as_batch=True, compare_type=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            database.tune_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_wtforms_translations(app)
    htmx.init_app(app)
    compress.init_app(app)
    login_manager.init_app(app)
    from app import jobs

    jobs.init_app(app)
    security.init_security_headers(app)
    app.session_interface = security.SessionInterface()
    clock.init_app(app)

    from app import models_registry  # noqa: F401  (every table known to Alembic)
    from app.accounts.views import bp as accounts_bp, init_login
    from app.cli import bp as cli_bp
    from app.main.views import bp as main_bp, init_e2e_clock, init_errors, init_template_globals

    init_login(app)
    init_errors(app)
    init_template_globals(app)
    init_e2e_clock(app)
    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(cli_bp)
    for blueprint in _area_blueprints():
        app.register_blueprint(blueprint)

    from app.resilience import LastResort, wrap_views

    wrap_views(app)
    app.wsgi_app = LastResort(app.wsgi_app, app)
    # The mappers are set up now, once, not inside the first request that touches a model
    # (after a restart, in the middle of a vote).
    from sqlalchemy.orm import configure_mappers

    configure_mappers()
    return app


def _area_blueprints():
    """Every area's blueprints (an area with several lists them in BLUEPRINTS)."""
    from app.consultation import views as consultation
    from app.deliberation import views as deliberation
    from app.notifications import views as notifications
    from app.records import views as records
    from app.voting import views as voting

    found = []
    for module in (deliberation, consultation, voting, records, notifications):
        found.extend(getattr(module, "BLUEPRINTS", [module.bp]))
    return found
