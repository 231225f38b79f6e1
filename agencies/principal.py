"""Who is asking: the authenticated user or API key, with what it acts for."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from agencies.models import Role, UserAccount


@dataclass(frozen=True)
class Principal:
    role: Role
    username: str
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    agency_id: uuid.UUID | None = None
    procuratorate_id: uuid.UUID | None = None
    jurisdiction_id: uuid.UUID | None = None
    # The jurisdiction a prosecutor or assessor acts for and all below it (a city sees its districts).
    visible_jurisdiction_ids: frozenset[uuid.UUID] = frozenset()
    # The account row as loaded with the principal, so reading it again costs no query.
    account: UserAccount | None = field(default=None, compare=False, repr=False)

    @property
    def is_api_key(self) -> bool:
        return self.api_key_id is not None
