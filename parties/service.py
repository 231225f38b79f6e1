"""Parties (当事人) named in a referral, and later in a case: persons with their identity number,
enterprises with their unified social credit code. The rules for checking them, protecting the
numbers and who sees a number in full live here; the tables that hold them belong to the
aggregate they hang off (referral.models.ReferralParty)."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from agencies.models import Role
from agencies.principal import Principal
from agencies.uscc import uscc_problem
from core.errors import ValidationFailed
from core.text import clean_text
from parties.identity import identity_number_problem, mask_identity_number, normalise_identity_number
from parties.protection import IdentityProtection

MAX_PARTIES = 50
MAX_NAME_LENGTH = 200
MAX_ROLE_LENGTH = 100


class PartyKind(str, enum.Enum):
    PERSON = "PERSON"
    ENTERPRISE = "ENTERPRISE"


@dataclass(frozen=True)
class PartyData:
    """A party as submitted."""

    kind: PartyKind
    name: str
    id_number: str | None = None
    uscc: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class ProtectedParty:
    """A checked party, its identity number (if any) only in protected forms."""

    kind: PartyKind
    name: str
    role: str | None
    uscc: str | None
    id_number_ciphertext: bytes | None
    id_number_masked: str | None
    id_number_index: str | None

    def fingerprint(self) -> list[object]:
        # The blind index stands for the number: a plain hash of it could be reversed by trying
        # every plausible number (region, birth date, sequence are a small space).
        return [self.kind.value, self.name, self.role, self.uscc, self.id_number_index]


@dataclass(frozen=True)
class PartySearch:
    uscc: str | None = None
    id_number: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class PartyTerms:
    """A PartySearch as the database compares it: the identity number as its blind index, the
    name as a case-insensitive LIKE prefix pattern."""

    uscc: str | None
    id_number_index: str | None
    name_prefix_pattern: str | None

    @property
    def is_empty(self) -> bool:
        return not (self.uscc or self.id_number_index or self.name_prefix_pattern)


def checked_id_number(raw: str | None, field: str) -> str | None:
    number = normalise_identity_number(raw)
    if not number:
        return None
    if problem := identity_number_problem(number):
        raise ValidationFailed(problem, field=field)
    return number


def checked_uscc(raw: str | None, field: str) -> str | None:
    code = (raw or "").strip().upper()
    if not code:
        return None
    if problem := uscc_problem(code):
        raise ValidationFailed(problem, field=field)
    return code


def protect_parties(parties: tuple[PartyData, ...] | list[PartyData], protection: IdentityProtection,
                    *, field: str = "parties") -> list[ProtectedParty]:
    """Check each party and protect its identity number. A person's number and an enterprise's
    code are optional (an unidentified offender, an unregistered workshop), checked when given."""
    if len(parties) > MAX_PARTIES:
        raise ValidationFailed(f"当事人最多{MAX_PARTIES}个 / at most {MAX_PARTIES} parties", field=field)
    protected = []
    for index, party in enumerate(parties):
        at = f"{field}.{index}"
        name = clean_text(party.name, f"{at}.name", MAX_NAME_LENGTH, required=True)
        role = clean_text(party.role, f"{at}.role", MAX_ROLE_LENGTH, required=False)
        if party.kind is PartyKind.PERSON:
            if (party.uscc or "").strip():
                raise ValidationFailed("自然人没有统一社会信用代码 / a person has no unified social credit code",
                                       field=f"{at}.uscc")
            number = checked_id_number(party.id_number, f"{at}.idNumber")
            protected.append(ProtectedParty(
                kind=party.kind, name=name, role=role, uscc=None,
                id_number_ciphertext=protection.encrypt(number) if number else None,
                id_number_masked=mask_identity_number(number) if number else None,
                id_number_index=protection.blind_index(number) if number else None))
        else:
            if (party.id_number or "").strip():
                raise ValidationFailed("单位没有公民身份号码 / an enterprise has no identity number",
                                       field=f"{at}.idNumber")
            protected.append(ProtectedParty(
                kind=party.kind, name=name, role=role, uscc=checked_uscc(party.uscc, f"{at}.uscc"),
                id_number_ciphertext=None, id_number_masked=None, id_number_index=None))
    return protected


def _like_prefix(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.lower() + "%"


def search_terms(search: PartySearch, protection: IdentityProtection, *, field: str = "party") -> PartyTerms:
    number = checked_id_number(search.id_number, f"{field}.idNumber")
    name = clean_text(search.name, f"{field}.name", MAX_NAME_LENGTH, required=False)
    return PartyTerms(uscc=checked_uscc(search.uscc, f"{field}.uscc"),
                      id_number_index=protection.blind_index(number) if number else None,
                      name_prefix_pattern=_like_prefix(name) if name else None)


def sees_identity_numbers(principal: Principal, receiving_jurisdiction_id: uuid.UUID) -> bool:
    """Only prosecutors of the procuratorate that receives the matter read numbers in full; a
    city procuratorate that oversees the district, the referring agency, assessors and
    administrators see them masked."""
    return principal.role is Role.PROSECUTOR and principal.jurisdiction_id == receiving_jurisdiction_id


@dataclass(frozen=True)
class PartyView:
    """A party as the principal may see it: the identity number in full or masked."""

    kind: PartyKind
    name: str
    role: str | None
    id_number: str | None
    uscc: str | None


def shown_id_number(principal: Principal, receiving_jurisdiction_id: uuid.UUID, *, ciphertext: bytes | None,
                    masked: str | None, protection: IdentityProtection) -> str | None:
    if ciphertext is None:
        return None
    if sees_identity_numbers(principal, receiving_jurisdiction_id):
        return protection.decrypt(ciphertext)
    return masked
