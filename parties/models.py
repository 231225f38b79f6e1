"""The columns of a party (当事人) row, for each aggregate that names parties to hold in its own
table (a referral's parties, a case's): one definition of how a party is stored, identity number
only encrypted, masked and as a blind index (parties.protection), and the indexes its searches
use."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, Index, Integer, LargeBinary, String, UniqueConstraint, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from agencies.principal import Principal
from core.db import string_enum
from core.loaders import grouped
from parties.protection import IdentityProtection
from parties.service import PartyKind, PartyTerms, PartyView, shown_id_number


class PartyColumns:
    """A mixin: the subclass adds its id, the column pointing at its owner (named by
    `party_owner_key`) and its table name."""

    party_owner_key: str

    position: Mapped[int] = mapped_column(Integer)  # the order they were given in
    kind: Mapped[PartyKind] = mapped_column(string_enum(PartyKind, "party_kind"))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(100))  # e.g. 违法行为人, 法定代表人
    id_number_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_masked: Mapped[str | None] = mapped_column(String(18))
    id_number_index: Mapped[str | None] = mapped_column(String(64))
    uscc: Mapped[str | None] = mapped_column(String(18))

    # Search by party runs EXISTS (… WHERE <owner> = <owner row> AND <term>): each term has an
    # index that finds the few parties matching it, and the page's rows come from those. The name
    # index is on lower(name) with text_pattern_ops, so one b-tree serves both an exact match and a
    # case-insensitive prefix (LIKE 'abc%') whatever the database's collation; substring search
    # would need pg_trgm and is not offered.
    @declared_attr.directive
    def __table_args__(cls) -> tuple:
        table = cls.__tablename__
        return (
            UniqueConstraint(cls.party_owner_key, "position"),
            Index(f"ix_{table}_id_number_index", "id_number_index"),
            Index(f"ix_{table}_uscc", "uscc"),
            Index(f"ix_{table}_lower_name", func.lower(cls.name).label("lower_name"),
                  postgresql_ops={"lower_name": "text_pattern_ops"}),
            CheckConstraint(
                "(kind = 'PERSON' AND uscc IS NULL) OR (kind = 'ENTERPRISE' AND id_number_ciphertext IS NULL)",
                name="identifier_fits_kind"),
            CheckConstraint(
                "(id_number_ciphertext IS NULL) = (id_number_masked IS NULL) "
                "AND (id_number_ciphertext IS NULL) = (id_number_index IS NULL)",
                name="id_number_forms_together"),
        )


def matching_party(party_model: type[PartyColumns], owner_column, terms: PartyTerms):
    """EXISTS one party of the owner row (`owner_column`: the owner's id, e.g. Case.id) matching
    every term given, or None for an empty search. The terms are parameters: the identity number
    only as its blind index (parties.service.search_terms)."""
    if terms.is_empty:
        return None
    party = select(party_model.id).where(getattr(party_model, party_model.party_owner_key) == owner_column)
    if terms.uscc:
        party = party.where(party_model.uscc == terms.uscc)
    if terms.id_number_index:
        party = party.where(party_model.id_number_index == terms.id_number_index)
    if terms.name_prefix_pattern:
        party = party.where(func.lower(party_model.name).like(terms.name_prefix_pattern))
    return exists(party)


async def visible_parties(session: AsyncSession, *, principal: Principal, protection: IdentityProtection,
                          party_model: type[PartyColumns], owner_model, owner_ids: list[uuid.UUID], visible
                          ) -> dict[uuid.UUID, list[PartyView]]:
    """The parties of the owners among `owner_ids` that `visible` (a condition on `owner_model`)
    lets the principal see, in the order given; an identity number in full only for prosecutors of
    the owner's jurisdiction (parties.service.shown_id_number), masked for everyone else."""
    owner_column = getattr(party_model, party_model.party_owner_key)
    rows = await session.execute(
        select(party_model, owner_model.jurisdiction_id).join(owner_model, owner_model.id == owner_column)
        .where(owner_column.in_(owner_ids), visible)
        .order_by(owner_column, party_model.position))

    def view(party: PartyColumns, jurisdiction_id: uuid.UUID) -> PartyView:
        return PartyView(kind=party.kind, name=party.name, role=party.role, uscc=party.uscc,
                         id_number=shown_id_number(principal, jurisdiction_id, ciphertext=party.id_number_ciphertext,
                                                   masked=party.id_number_masked, protection=protection))

    groups = grouped(rows, owner_ids, key=lambda row: getattr(row[0], party_model.party_owner_key))
    return {owner_id: [view(*row) for row in group] for owner_id, group in groups.items()}
