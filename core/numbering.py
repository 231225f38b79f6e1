"""Document numbers (文号): 机关代字〔年份〕序号号, e.g. 卫东检公益线〔2026〕3号.

Numbered per procuratorate, kind of document and year, never duplicated and never skipped. One
counter row per (procuratorate, kind, year) is incremented in the caller's transaction: its row
lock makes concurrent allocators wait their turn until the first commits or rolls back, and a
rollback undoes the increment with everything else, so the number is used again. (A PostgreSQL
sequence would be faster but is not transactional: every rollback would leave a gap.) The price
is that allocations of one counter are serialised for the rest of the allocating transaction, so
allocate as late in a request as is convenient."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Integer
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, string_enum


class DocumentKind(str, enum.Enum):
    REFERRAL_REGISTRATION = "REFERRAL_REGISTRATION"  # 线索登记
    CASE = "CASE"  # 立案
    RECOMMENDATION = "RECOMMENDATION"  # 检察建议


# What follows the procuratorate's 代字 for each kind: 公益 (public-interest litigation) and the
# kind's character. The one place these are written down; a procuratorate's own 代字 is data on
# its row (agencies.models.Procuratorate.document_code).
KIND_INFIXES: dict[DocumentKind, str] = {
    DocumentKind.REFERRAL_REGISTRATION: "公益线",
    DocumentKind.CASE: "公益立",
    DocumentKind.RECOMMENDATION: "公益建",
}


class DocumentCounter(Base):
    """The last number given out per procuratorate, kind and year."""

    __tablename__ = "document_counter"

    procuratorate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("procuratorate.id"), primary_key=True)
    kind: Mapped[DocumentKind] = mapped_column(string_enum(DocumentKind, "document_kind"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("last_number > 0", name="last_number_positive"),)


def format_number(document_code: str, kind: DocumentKind, year: int, serial: int) -> str:
    return f"{document_code}{KIND_INFIXES[kind]}〔{year}〕{serial}号"


@dataclass(frozen=True)
class DocumentNumber:
    year: int
    serial: int
    text: str  # 卫东检公益立〔2026〕3号


async def allocate_number(session: AsyncSession, *, procuratorate_id: uuid.UUID, document_code: str,
                          kind: DocumentKind, on: date | None = None) -> str:
    """The next number of `kind` for the procuratorate in the year of `on` (a Beijing date, today
    by default), formatted with its 代字. Holds the counter's row lock until the caller's
    transaction ends; rolled back, the number goes to the next allocation."""
    return (await allocate_document_number(session, procuratorate_id=procuratorate_id,
                                           document_code=document_code, kind=kind, on=on)).text


async def allocate_document_number(session: AsyncSession, *, procuratorate_id: uuid.UUID, document_code: str,
                                   kind: DocumentKind, on: date | None = None) -> DocumentNumber:
    """`allocate_number` with the year and serial beside the text, for whoever sorts by number."""
    year = (on or clock.today()).year
    statement = (insert(DocumentCounter)
                 .values(procuratorate_id=procuratorate_id, kind=kind, year=year, last_number=1)
                 .on_conflict_do_update(index_elements=[DocumentCounter.procuratorate_id, DocumentCounter.kind,
                                                        DocumentCounter.year],
                                        set_={"last_number": DocumentCounter.last_number + 1})
                 .returning(DocumentCounter.last_number))
    serial = await session.scalar(statement)
    return DocumentNumber(year=year, serial=serial, text=format_number(document_code, kind, year, serial))
