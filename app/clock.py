"""The application's one clock: what time it is, how a time is shown, how a legal period
is counted.

- **Now.** Everything that stamps a time asks `utcnow()` (naive UTC, what the database
  stores). The demo loader replays weeks of a village's history in a few seconds: it sets
  the clock to each day of that history in turn (`travel_to`), so every record carries
  the date on which it would have happened. The browser tests move the clock of a live
  server through `set_offset()`, which the app exposes (POST /_e2e/clock) only when it
  was started with GONGYI_E2E_CLOCK=1, and never over HTTPS (see `app/main/views.py`);
  nothing else moves the clock.
- **The zone.** Times are shown in the zone of the GONGYI_TIMEZONE setting (default
  Asia/Shanghai, via `zoneinfo`), formatted with Babel for the page's language, to the
  minute. Templates use the filters and globals registered by `init_app()`:

  ``{{ moment|bjtime }}``       "2026年12月9日 18:27" / "9 Dec 2026, 18:27"
  ``{{ moment|bjdate }}``       "2026年12月9日" / "9 Dec 2026" (a `date` is taken as it is)
  ``{{ moment|bjiso }}``        "2026-12-09T18:27:00+08:00" (for `<time datetime>` and JSON)
  ``{{ period_end_text(end) }}`` "2026年12月9日24时" / "end of 9 Dec 2026 (24:00)"

  Python code calls the same functions: `format_time`, `format_day`, `isoformat`,
  `period_end_text`.
- **Legal periods** (民法典 arts. 201–203): counted in local calendar days. The day of the
  event is not counted; the period ends at 24:00 of its last day; when the rule profile
  says so, a last day that is a rest day (a Saturday, a Sunday or a statutory holiday,
  except the working days the State Council moves onto a weekend) moves to the next
  working day. `period_end(event, days)` returns that end as a naive UTC moment (the first
  instant no longer in the period), so "still in the period" is `now < period_end(...)`.
  The holidays are the State Council's yearly notices as the `chinese-calendar` package
  carries them (2004–2026 in its pinned version); a year it does not know yet counts
  Saturdays and Sundays only, until the package is updated.
"""
from __future__ import annotations

import contextvars
import os
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
from babel.dates import format_datetime as babel_datetime

DEFAULT_ZONE = "Asia/Shanghai"

_fixed: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("gongyi_clock", default=None)
# The browser tests' shift of the clock: a file shared by every worker of the live server,
# used only when the app was started with GONGYI_E2E_CLOCK=1 (`use_shared_offset`).
_offset_file: Path | None = None
_offset_cache: tuple[int | None, timedelta] = (None, timedelta(0))


def utcnow() -> datetime:
    """Naive UTC now (what the database columns store)."""
    fixed = _fixed.get()
    if fixed is not None:
        return fixed
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    return now + _shared_offset() if _offset_file is not None else now


@contextmanager
def travel_to(moment: datetime):
    token = _fixed.set(moment)
    try:
        yield
    finally:
        _fixed.reset(token)


def use_shared_offset(path: Path) -> None:
    """Let the browser tests move every worker's clock through the file at `path`."""
    global _offset_file
    _offset_file = path


def _shared_offset() -> timedelta:
    global _offset_cache
    try:
        mtime = _offset_file.stat().st_mtime_ns
    except FileNotFoundError:
        return timedelta(0)
    if _offset_cache[0] != mtime:
        text = _offset_file.read_text().strip()
        _offset_cache = (mtime, timedelta(seconds=float(text or 0)))
    return _offset_cache[1]


def set_offset(delta: timedelta) -> None:
    """Move the clock of every worker by `delta` from the real time (browser tests only).

    :raises RuntimeError: the app was not started for the browser tests.
    """
    if _offset_file is None:
        raise RuntimeError("the clock can only be moved when started with GONGYI_E2E_CLOCK=1")
    tmp = _offset_file.with_suffix(".tmp")
    tmp.write_text(str(delta.total_seconds()))
    os.replace(tmp, _offset_file)


# The zone ------------------------------------------------------------------------------

def zone_name() -> str:
    try:
        from flask import current_app

        return current_app.config.get("GONGYI_TIMEZONE") or DEFAULT_ZONE
    except RuntimeError:  # outside an application
        return DEFAULT_ZONE


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone() -> ZoneInfo:
    return _zone(zone_name())


def to_local(moment: datetime) -> datetime:
    """A stored (naive UTC) moment as an aware local time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(zone())


def from_local(local: datetime) -> datetime:
    """A local wall-clock time (naive, as a form gives it, or aware) as naive UTC."""
    if local.tzinfo is None:
        local = local.replace(tzinfo=zone())
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def local_date(moment: datetime) -> date:
    """The local calendar day a stored moment falls on."""
    return to_local(moment).date()


def today() -> date:
    return local_date(utcnow())


def start_of_day(day: date) -> datetime:
    """00:00 local of `day`, as naive UTC."""
    return from_local(datetime.combine(day, time(0, 0)))


def end_of_day(day: date) -> datetime:
    """24:00 local of `day` (the first instant of the next day), as naive UTC."""
    return start_of_day(day + timedelta(days=1))


def moment_of_day(day: date | None) -> datetime:
    """A date-only input (a local date): now if it is today, else the start of that day."""
    if day is None or day == today():
        return utcnow()
    return start_of_day(day)


# Legal periods ----------------------------------------------------------------------------

def is_rest_day(day: date) -> bool:
    """A Saturday, Sunday or statutory holiday that is not a moved working day (调休).
    A year the calendar does not know yet counts Saturdays and Sundays only."""
    try:
        return not chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() >= 5


def holidays_known(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
        return True
    except NotImplementedError:
        return False


def period_last_day(event: datetime, days: int, *, holiday_shift: bool = False) -> date:
    """The last day of a period of `days` days that starts with the event (art. 201: the
    event's own day is not counted; art. 203: a rest day at the end moves it on)."""
    last = local_date(event) + timedelta(days=days)
    if holiday_shift:
        while is_rest_day(last):
            last += timedelta(days=1)
    return last


def period_end(event: datetime, days: int, *, holiday_shift: bool = False) -> datetime:
    """24:00 local of the period's last day, as naive UTC."""
    return end_of_day(period_last_day(event, days, holiday_shift=holiday_shift))


def profile_period_end(profile, event: datetime, days: int) -> datetime:
    """`period_end` with the rule profile's choice on the holiday shift."""
    return period_end(event, days, holiday_shift=bool(getattr(profile, "holiday_shift", False)))


def notice_earliest(profile, event: datetime, days: int) -> datetime:
    """The earliest moment a meeting announced (or a plan sent) at `event` may be held when
    the notice must be given `days` days ahead: once `days` full days have passed."""
    return profile_period_end(profile, event, days)


# Showing a time -------------------------------------------------------------------------------

def _locale(locale=None) -> str:
    if locale is not None:
        return str(locale)
    try:
        from flask_babel import get_locale

        found = get_locale()
        return str(found) if found is not None else "zh_Hans"
    except (RuntimeError, KeyError, AttributeError):
        return "zh_Hans"


def _is_zh(locale: str) -> bool:
    return locale.startswith("zh")


TIME_PATTERN = {"zh": "y年M月d日 HH:mm", "en": "d MMM y, HH:mm"}
DAY_PATTERN = {"zh": "y年M月d日", "en": "d MMM y"}


def format_time(moment: datetime | None, locale=None) -> str:
    """A stored moment in local time to the minute: "2026年12月9日 18:27" / "9 Dec 2026, 18:27"."""
    if moment is None:
        return ""
    loc = _locale(locale)
    key = "zh" if _is_zh(loc) else "en"
    return babel_datetime(to_local(moment), TIME_PATTERN[key], locale="zh_Hans_CN" if key == "zh" else "en_GB")


def format_day(value: datetime | date | None, locale=None) -> str:
    """The local day: "2026年12月9日" / "9 Dec 2026". A `date` is already a local day."""
    if value is None:
        return ""
    day = local_date(value) if isinstance(value, datetime) else value
    loc = _locale(locale)
    key = "zh" if _is_zh(loc) else "en"
    return babel_datetime(datetime.combine(day, time(12, 0)), DAY_PATTERN[key],
                          locale="zh_Hans_CN" if key == "zh" else "en_GB")


def period_end_text(end: datetime | None, locale=None) -> str:
    """The end of a period, named as the law names it: "2026年12月9日24时" when `end` is
    local midnight (24:00 of the day before), else the time itself."""
    if end is None:
        return ""
    local = to_local(end)
    if (local.hour, local.minute, local.second) != (0, 0, 0):
        return format_time(end, locale)
    last = local.date() - timedelta(days=1)
    if _is_zh(_locale(locale)):
        return format_day(last, locale) + "24时"
    return f"end of {format_day(last, locale)} (24:00)"


def isoformat(moment: datetime | date | None) -> str | None:
    """ISO 8601 with the zone's explicit offset, to the second: "2026-12-09T18:27:20+08:00".
    A `date` stays a date ("2026-12-09")."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        return moment.isoformat()
    return to_local(moment).replace(microsecond=0).isoformat()


def init_app(app) -> None:
    """Register the filters and globals every template uses to show a time."""
    app.add_template_filter(format_time, "bjtime")
    app.add_template_filter(format_day, "bjdate")
    app.add_template_filter(isoformat, "bjiso")
    app.add_template_global(period_end_text, "period_end_text")
    app.add_template_global(utcnow, "now_utc")
