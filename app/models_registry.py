"""Imports every area's models so that Alembic and create_all see every table."""
from app.accounts import models as accounts_models  # noqa: F401
from app.consultation import models as consultation_models  # noqa: F401
from app.deliberation import models as deliberation_models  # noqa: F401
from app.notifications import models as notifications_models  # noqa: F401
from app.records import models as records_models  # noqa: F401
from app.voting import models as voting_models  # noqa: F401
