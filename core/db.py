"""Database engine, session factory and the declarative base every domain's models share."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import asyncpg
from sqlalchemy import DateTime, Enum, MetaData, Uuid
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

if TYPE_CHECKING:  # core depends on nothing above it; settings are app's
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


# Raised by asyncpg when the connection breaks under a statement or is used after it broke.
_CONNECTION_LOST = (asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.exceptions.InterfaceError,
                    asyncpg.exceptions.QueryCanceledError, asyncpg.exceptions.CannotConnectNowError,
                    asyncpg.exceptions.AdminShutdownError, asyncpg.exceptions.TooManyConnectionsError)


def database_unreachable(error: BaseException | None) -> bool:
    """A failure to get an answer from PostgreSQL at all (refused, reset, cut, timed out, shutting
    down, pool exhausted), as opposed to an error in what was asked of it."""
    if isinstance(error, DBAPIError):
        cause = getattr(error.orig, "__cause__", None) or error.orig
        return (error.connection_invalidated or isinstance(error.orig, (OSError, TimeoutError))
                or isinstance(cause, (*_CONNECTION_LOST, OSError, TimeoutError)))
    return isinstance(error, (OSError, TimeoutError, PoolTimeout, *_CONNECTION_LOST))


POOL_RECYCLE_SECONDS = 1800


def make_engine(settings: DatabaseSettings) -> AsyncEngine:
    return create_async_engine(
        settings.url,
        pool_size=settings.pool_size,
        pool_timeout=settings.pool_timeout_seconds,
        # No ping per checkout (a round trip per request): asyncpg reports a dead connection on
        # its first use and SQLAlchemy then invalidates the pool, so that request answers
        # DATABASE_UNAVAILABLE; recycling retires connections before a firewall's or
        # PostgreSQL's idle timeout quietly drops them.
        pool_recycle=POOL_RECYCLE_SECONDS,
        echo=settings.echo,
        connect_args={
            "timeout": settings.connect_timeout_seconds,
            "command_timeout": settings.command_timeout_seconds,
            "server_settings": {
                "statement_timeout": str(settings.statement_timeout_ms),
                "idle_in_transaction_session_timeout": str(settings.idle_in_transaction_timeout_ms),
            },
        },
    )


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def string_enum(enum_class: type[enum.Enum], name: str) -> Enum:
    """VARCHAR plus a named CHECK constraint: adding a value later is a small migration, not a
    PostgreSQL enum-type rewrite."""
    return Enum(enum_class, native_enum=False, length=32, create_constraint=True, name=name,
                validate_strings=True)
