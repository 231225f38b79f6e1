"""Every domain's tables, imported once so the metadata is complete (for Alembic and tests)."""

from agencies import models as agencies_models  # noqa: F401
from assessment import models as assessment_models  # noqa: F401
from cases import models as cases_models  # noqa: F401
from clues import models as clues_models  # noqa: F401
from core import numbering as core_numbering  # noqa: F401
from core.db import Base
from deadlines import models as deadlines_models  # noqa: F401
from enforcement import models as enforcement_models  # noqa: F401
from evidence import models as evidence_models  # noqa: F401
from geo import models as geo_models  # noqa: F401
from notifications import models as notifications_models  # noqa: F401
from recommendations import models as recommendations_models  # noqa: F401
from referral import models as referral_models  # noqa: F401

metadata = Base.metadata
