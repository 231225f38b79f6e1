"""Passwords, login tokens and agency API keys, and turning a bearer credential into a Principal.

Login tokens are short-lived signed JWTs carrying the account's token version; the account is
re-read on every request (one statement, with everything the Principal needs), so disabling a user
or changing its password ends its tokens at once. API keys are random secrets shown once; only
their SHA-256 is kept (a slow hash buys nothing for 256 random bits) and a revoked key fails on its
next request.

argon2 spends tens of milliseconds of CPU per password: it runs in a small thread pool of its own
(argon2-cffi releases the GIL), never on the event loop, so a burst of logins does not stall
every other request."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from functools import cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, func, literal_column, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import ApiKey, Jurisdiction, Procuratorate, Role, UserAccount
from agencies.principal import Principal
from agencies.throttle import LoginThrottle
from app.settings import AuthSettings, get_settings
from core.errors import Unauthenticated

API_KEY_PREFIX = "pilk"
# OWASP's recommended minimum for Argon2id (19 MiB, 2 passes, 1 lane): about 20 ms of one core.
# The library's default (64 MiB, 3 passes, 4 lanes) cost about seven times that, spread over every
# core, so a few logins a second slowed everyone's requests. Hashes made with other parameters
# still verify, and are replaced at their next successful login.
_password_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the username does not exist, so both failures take the same time.
_DUMMY_HASH = _password_hasher.hash("not-a-real-password")
_BAD_CREDENTIALS = "用户名或密码错误 / Wrong username or password"
_BAD_TOKEN = "登录已失效，请重新登录 / The token is invalid or expired, please log in again"
# last_used_at is for a person judging whether a key is still in use; minute precision is plenty,
# and it spares a row write (and a row lock held to the end of the request) on every request.
_API_KEY_USE_PRECISION = timedelta(minutes=1)


HASHING_NICENESS = 10


@cache
def _hashing_pool() -> ThreadPoolExecutor:
    # Made on first use and sized from the environment's settings (PIL_AUTH_PASSWORD_HASH_THREADS):
    # services that hash (create_user from the CLI, the demo loader, the tests' fixtures) run
    # without an application around them to own a pool.
    return ThreadPoolExecutor(max_workers=get_settings().auth.password_hash_threads,
                              thread_name_prefix="password-hash", initializer=_yield_to_requests)


def _yield_to_requests() -> None:
    """Run the hashing thread at a lower CPU priority (on Linux, niceness is per thread): a burst
    of logins then takes what the requests leave, instead of competing with them."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: hashing still works
        pass


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_hashing_pool(), _password_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_hashing_pool(), _verify, password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def login(session: AsyncSession, *, settings: AuthSettings, throttle: LoginThrottle, source: str,
                username: str, password: str) -> tuple[UserAccount, str, datetime]:
    """The account and a fresh token for it, or Unauthenticated (or RateLimited while `source`
    has been guessing at this username, or at too many)."""
    username = username.strip().lower()
    await throttle.count_attempt(source, username)
    user = await authenticate(session, username=username, password=password)
    await throttle.record_success(source, username)
    if _password_hasher.check_needs_rehash(user.password_hash):
        user.password_hash = await hash_password(password)
    token, expires_at = issue_token(settings, user)
    return user, token, expires_at


async def authenticate(session: AsyncSession, *, username: str, password: str) -> UserAccount:
    user = await session.scalar(select(UserAccount).where(UserAccount.username == username))
    if user is None:
        await verify_password(_DUMMY_HASH, password)
        raise Unauthenticated(_BAD_CREDENTIALS)
    if not await verify_password(user.password_hash, password) or not user.is_active:
        raise Unauthenticated(_BAD_CREDENTIALS)
    return user


def issue_token(settings: AuthSettings, user: UserAccount) -> tuple[str, datetime]:
    issued_at = datetime.now(timezone.utc)
    expires_at = issued_at + timedelta(seconds=settings.token_ttl_seconds)
    claims = {"sub": str(user.id), "ver": user.token_version, "iss": settings.token_issuer, "iat": issued_at,
              "exp": expires_at}
    return jwt.encode(claims, settings.token_secret, algorithm="HS256"), expires_at


def new_api_key() -> tuple[str, str, str]:
    """(prefix, secret hash, the key in plain text — shown once, never stored)."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return prefix, hash_api_secret(secret), f"{API_KEY_PREFIX}_{prefix}_{secret}"


def hash_api_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def principal_from_bearer(session: AsyncSession, settings: AuthSettings, credential: str) -> Principal:
    if credential.startswith(f"{API_KEY_PREFIX}_"):
        return await _principal_from_api_key(session, credential)
    return await _principal_from_token(session, settings, credential)


async def _principal_from_token(session: AsyncSession, settings: AuthSettings, token: str) -> Principal:
    try:
        claims = jwt.decode(token, settings.token_secret, algorithms=["HS256"],
                            issuer=settings.token_issuer, options={"require": ["sub", "ver", "exp", "iat"]})
        user_id = uuid.UUID(claims["sub"])
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise Unauthenticated(_BAD_TOKEN) from error
    row = (await session.execute(_ACCOUNT_WITH_SCOPE, {"user_id": user_id})).one_or_none()
    if row is None:
        raise Unauthenticated(_BAD_TOKEN)
    user, scope_root, visible = row
    if not user.is_active or claims["ver"] != user.token_version:
        raise Unauthenticated(_BAD_TOKEN)
    return Principal(role=user.role, username=user.username, user_id=user.id,
                     agency_id=user.agency_id, procuratorate_id=user.procuratorate_id,
                     jurisdiction_id=scope_root, visible_jurisdiction_ids=frozenset(visible or ()),
                     account=user)


def _account_with_scope():
    """One statement for the whole Principal: the account, the jurisdiction it acts for — a prosecutor's is its
    procuratorate's — and that jurisdiction with everything below it (a city sees its districts).
    The role_binding constraint leaves at most one of the two roots set."""
    scope_root = func.coalesce(Procuratorate.jurisdiction_id, UserAccount.jurisdiction_id)
    account = (select(UserAccount.id, scope_root.label("scope_root"))
               .outerjoin(Procuratorate, Procuratorate.id == UserAccount.procuratorate_id)
               .where(UserAccount.id == bindparam("user_id", type_=UserAccount.id.type))
               .cte("account"))
    tree = (select(Jurisdiction.id).join(account, Jurisdiction.id == account.c.scope_root)
            .cte("tree", recursive=True))
    below = select(Jurisdiction.id).join(tree, Jurisdiction.parent_id == tree.c.id)
    tree = tree.union_all(below)
    visible = select(func.array_agg(tree.c.id)).scalar_subquery()
    return select(UserAccount, account.c.scope_root, visible).join(account, account.c.id == UserAccount.id)


# Run on every authenticated request: built once, with the user id as a parameter. Building it per
# request cost more CPU than the rest of authentication (SQLAlchemy constructs and then hashes the
# CTEs into a cache key each time; a statement object keeps its cache key).
_ACCOUNT_WITH_SCOPE = _account_with_scope()


async def _principal_from_api_key(session: AsyncSession, credential: str) -> Principal:
    parts = credential.split("_", 2)
    if len(parts) != 3:
        raise Unauthenticated(_BAD_TOKEN)
    _, prefix, secret = parts
    row = (await session.execute(_live_api_key(prefix, hash_api_secret(secret)))).one_or_none()
    if row is None:
        raise Unauthenticated(_BAD_TOKEN)
    key_id, name, agency_id = row
    return Principal(role=Role.AGENCY_LIAISON, username=f"api-key:{name}", api_key_id=key_id,
                     agency_id=agency_id)


def _live_api_key(prefix: str, secret_hash: str):
    """One statement: the unrevoked key with this prefix and secret, and its last_used_at moved on
    if it is more than a minute old (so a busy key is written once a minute, not per request).
    The digest is compared in SQL: its bytes are not the attacker's to choose, so timing reveals
    nothing usable about the stored hash."""
    key = (select(ApiKey.id, ApiKey.name, ApiKey.agency_id)
           .where(ApiKey.prefix == prefix, ApiKey.secret_hash == secret_hash, ApiKey.revoked_at.is_(None))
           .cte("key"))
    touched = (update(ApiKey)
               .where(ApiKey.id.in_(select(key.c.id)),
                      or_(ApiKey.last_used_at.is_(None),
                          ApiKey.last_used_at < func.now() - _API_KEY_USE_PRECISION))
               .values(last_used_at=func.now())
               .returning(literal_column("1"))
               .cte("touched"))
    # PostgreSQL runs a data-modifying CTE to completion whether or not the SELECT reads it.
    return select(key.c.id, key.c.name, key.c.agency_id).add_cte(touched)
