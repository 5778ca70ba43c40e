"""Sign-in, sign-out, one-time codes, passwords, and the village's register of people."""
from __future__ import annotations

import json
from typing import Callable

from flask import (
    Blueprint, current_app, flash, has_request_context, redirect, render_template, request, session, url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from app.accounts import imports, services, throttle
from app.accounts.forms import (
    ROLE_LABELS, CodeLoginForm, ImportPeopleForm, LoginForm, RegisterPersonForm, RequestCodeForm,
    SetPasswordForm,
)
from app.accounts.models import PeopleImport, Person, Village
from app.accounts.permissions import can_manage_people
from app.extensions import db, login_manager
from app.htmx import render_page_or_partial
from app.loaders import in_village_or_404
from app.inputs import parse_id
from app.main.views import render_error, safe_next
from app.permissions import require

bp = Blueprint("accounts", __name__)

# Endpoint -> a loader of the signed-in person for that route alone, which may load what
# the route reads together with the person, in one query (the vote cast).
ROUTE_LOADERS: dict[str, Callable[[int], Person | None]] = {}


def route_loader(endpoint: str):
    """Register `fn(person_id) -> Person | None` as the user loader of one endpoint; the
    session-token and active checks stay here, the same for every route."""

    def register(fn):
        ROUTE_LOADERS[endpoint] = fn
        return fn

    return register


def init_login(app):
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None  # the sign-in page says why on its own
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def _load(user_id: str):
        pid, _sep, token = user_id.partition(":")
        ident = parse_id(pid)
        if ident is None or not token:
            return None
        loader = ROUTE_LOADERS.get(request.endpoint) if has_request_context() else None
        person = loader(ident) if loader is not None else db.session.get(Person, ident)
        if person is None or person.session_token != token or not person.active:
            return None
        return person

    @app.context_processor
    def _role_labels():
        return {"ROLE_LABELS": ROLE_LABELS}


def _address() -> str:
    return request.remote_addr or "unknown"


def _too_many(*checks: tuple[str, str]):
    """429 with the sign-in page's words when any (scope, value) has used up its tries."""
    if any(throttle.exceeded(scope, value) for scope, value in checks):
        db.session.commit()
        return render_error(429)
    return None


def _sign_in(person, remember: bool) -> None:
    """A new sign-in: a new session token (every older cookie of this person stops
    working) and a fresh session, so nothing from before signing in carries over."""
    person.rotate_session_token()
    db.session.commit()
    session.clear()
    login_user(person, remember=remember)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        phone = services.normalise_phone(form.phone.data)
        refused = _too_many(("account", phone), ("address", _address()))
        if refused:
            return refused
        person = services.authenticate(phone, form.password.data)
        if person is not None:
            _sign_in(person, form.remember.data)
            return redirect(safe_next(request.args.get("next"), url_for("main.home")))
        throttle.record("account", phone)
        throttle.record("address", _address())
        db.session.commit()
        form.password.errors.append(_("The phone number or the password is not right."))
    return render_template("accounts/login.html", form=form), (200 if request.method == "GET" or not form.errors else 400)


@bp.post("/logout")
@login_required
def logout():
    services.sign_out(current_user)
    db.session.commit()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


CODE_PHONE_KEY = "code_phone"  # the number a code was asked for: kept in the session, never in a URL


@bp.route("/code", methods=["GET", "POST"])
def request_code():
    """First sign-in or forgotten password: a one-time code by text message."""
    form = RequestCodeForm()
    if form.validate_on_submit():
        phone = services.normalise_phone(form.phone.data)
        refused = _too_many(("code-acct", phone), ("code-addr", _address()))
        if refused:
            return refused
        throttle.record("code-acct", phone)
        throttle.record("code-addr", _address())
        services.issue_one_time_code(phone)
        db.session.commit()
        session[CODE_PHONE_KEY] = phone
        flash(_("If this number is registered, a code is on its way. It is valid for 15 minutes."), "info")
        return redirect(url_for("accounts.code_login"))
    return render_template("accounts/request_code.html", form=form), (400 if form.errors else 200)


@bp.route("/code/enter", methods=["GET", "POST"])
def code_login():
    form = CodeLoginForm()
    if request.method == "GET" and session.get(CODE_PHONE_KEY):
        form.phone.data = session[CODE_PHONE_KEY]
    if form.validate_on_submit():
        phone = services.normalise_phone(form.phone.data)
        refused = _too_many(("account", phone), ("address", _address()))
        if refused:
            return refused
        person = services.redeem_one_time_code(phone, form.code.data)
        if person is not None:
            db.session.commit()
            _sign_in(person, remember=False)
            flash(_("You are signed in. Please choose your password now."), "info")
            return redirect(url_for("accounts.set_password"))
        throttle.record("account", phone)
        throttle.record("address", _address())
        db.session.commit()
        form.code.errors.append(_("The code is not right or has expired. You can ask for a new one."))
    return render_template("accounts/code_login.html", form=form), (400 if form.errors else 200)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def set_password():
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            services.set_password(current_user, form.password.data)
        except services.AccountError as exc:
            form.password.errors.append(str(exc))
        else:
            db.session.commit()
            login_user(current_user._get_current_object(), remember=True)  # new token: new cookie here only
            flash(_("Your password is saved."), "info")
            return redirect(url_for("main.home"))
    return render_template("accounts/set_password.html", form=form), (400 if form.errors else 200)


def _village_or_404(village_id: int) -> Village:
    return db.get_or_404(Village, village_id)


@bp.route("/villages/<int:village_id>/people", methods=["GET", "POST"])
@login_required
def people(village_id: int):
    village = _village_or_404(village_id)
    require(can_manage_people(current_user, village))
    form = RegisterPersonForm()
    if form.validate_on_submit():
        data = services.PersonData(name=form.name.data, phone=form.phone.data, household=form.household.data or None,
                                   group=form.group.data or None, gender=form.gender.data or None, birth_date=form.birth_date.data,
                                   roles=form.roles.data or ["villager"])
        try:
            person = services.register_person(village, data, actor=current_user)
        except services.AccountError as exc:
            form.phone.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("%(name)s is registered. They can sign in with a code sent to %(phone)s.",
                    name=person.name, phone=person.phone), "info")
            return redirect(url_for("accounts.people", village_id=village.id))
    recent_imports = db.session.scalars(select(PeopleImport).where(PeopleImport.village_id == village.id)
                                        .order_by(PeopleImport.id.desc()).limit(5)).all()
    from sqlalchemy.orm import selectinload

    from app.paging import page_arg

    pager = db.paginate(select(Person).where(Person.village_id == village.id)
                        .options(selectinload(Person.household), selectinload(Person.roles))
                        .order_by(Person.household_id, Person.id),
                        page=page_arg(), per_page=PEOPLE_PER_PAGE, max_per_page=PEOPLE_PER_PAGE, error_out=False)
    return render_template("accounts/people.html", village=village, form=form, people=pager.items, pager=pager,
                           import_form=ImportPeopleForm(), recent_imports=recent_imports), (400 if form.errors else 200)


PEOPLE_PER_PAGE = 100


@bp.route("/villages/<int:village_id>/people/import", methods=["POST"])
@login_required
def import_people(village_id: int):
    village = _village_or_404(village_id)
    require(can_manage_people(current_user, village))
    form = ImportPeopleForm()
    errors: list[tuple[int, str]] = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            record = imports.start_import(village, current_user, upload.read(), upload.filename or "")
        except services.AccountError as exc:
            errors = [(0, str(exc))]
        else:
            db.session.commit()  # the file is stored; the worker checks and writes it
            imports.enqueue(record)
            return redirect(url_for("accounts.import_progress", village_id=village.id, import_id=record.id))
    else:
        errors = [(0, e) for e in form.file.errors]
    return render_template("accounts/import_errors.html", village=village, errors=errors, import_form=form), 400


from app.accounts import views_rules  # noqa: E402,F401  (routes on the same blueprint)
@bp.get("/villages/<int:village_id>/people/imports/<int:import_id>")
@login_required
def import_progress(village_id: int, import_id: int):
    """How far an import is: the committee can leave this page and come back."""
    village = _village_or_404(village_id)
    require(can_manage_people(current_user, village))
    record = in_village_or_404(PeopleImport, import_id, village.id)
    errors = json.loads(record.errors) if record.errors else []
    return render_page_or_partial("accounts/import_progress.html", "accounts/_import_progress.html",
                                  village=village, record=record, errors=errors, import_form=ImportPeopleForm())
