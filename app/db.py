"""Database engine, session factory and the declarative base every domain's models share."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timezone

from sqlalchemy import DateTime, Enum, MetaData, Uuid
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.settings import DatabaseSettings

# Explicit constraint names, so migrations can drop and rename what they created.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


def created_at_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


def database_unreachable(error: BaseException | None) -> bool:
    """A failure to reach PostgreSQL at all (refused, reset, timed out), as opposed to an error
    in what was asked of it."""
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or isinstance(error.orig, OSError)
    return isinstance(error, (OSError, TimeoutError))


POOL_RECYCLE_SECONDS = 1800


def make_engine(settings: DatabaseSettings) -> AsyncEngine:
    return create_async_engine(
        settings.url,
        pool_size=settings.pool_size,
        # No ping per checkout (a round trip per request): asyncpg reports a dead connection on
        # its first use and SQLAlchemy then invalidates it; recycling retires connections before
        # a firewall's or PostgreSQL's idle timeout quietly drops them.
        pool_recycle=POOL_RECYCLE_SECONDS,
        echo=settings.echo,
    )


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def string_enum(enum_class: type[enum.Enum], name: str) -> Enum:
    """VARCHAR plus a named CHECK constraint: adding a value later is a small migration, not a
    PostgreSQL enum-type rewrite."""
    return Enum(enum_class, native_enum=False, length=32, create_constraint=True, name=name,
                validate_strings=True)
