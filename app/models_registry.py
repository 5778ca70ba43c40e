"""Imports every area's models so that Alembic and create_all see every table."""
import importlib

from app.accounts import models as accounts_models  # noqa: F401
from app.records import models as records_models  # noqa: F401

for _name in ("app.deliberation.models", "app.consultation.models", "app.voting.models", "app.notifications.models"):
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as exc:
        if exc.name != _name:
            raise
