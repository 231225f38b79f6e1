"""Passwords, login tokens and agency API keys, and turning a bearer credential into a Principal.

Login tokens are short-lived signed JWTs; the account is re-read on every request, so disabling a
user stops its tokens at once. API keys are random secrets shown once; only their SHA-256 is kept
(a slow hash buys nothing for 256 random bits) and a revoked key fails on its next request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta, timezone

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import ApiKey, Jurisdiction, Procuratorate, Role, UserAccount
from agencies.principal import Principal
from agencies.throttle import LoginThrottle
from app.db import utcnow
from app.errors import Unauthenticated
from app.settings import AuthSettings

API_KEY_PREFIX = "pilk"
_password_hasher = PasswordHasher()
# Verified against when the username does not exist, so both failures take the same time.
_DUMMY_HASH = _password_hasher.hash("not-a-real-password")
_BAD_CREDENTIALS = "用户名或密码错误 / Wrong username or password"
_BAD_TOKEN = "登录已失效，请重新登录 / The token is invalid or expired, please log in again"


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def login(session: AsyncSession, *, settings: AuthSettings, throttle: LoginThrottle, username: str,
                password: str) -> tuple[UserAccount, str, datetime]:
    """The account and a fresh token for it, or Unauthenticated (or RateLimited while a username
    is being guessed at)."""
    username = username.strip().lower()
    throttle.check(username)
    try:
        user = await authenticate(session, username=username, password=password)
    except Unauthenticated:
        throttle.record_failure(username)
        raise
    throttle.record_success(username)
    token, expires_at = issue_token(settings, user)
    return user, token, expires_at


async def authenticate(session: AsyncSession, *, username: str, password: str) -> UserAccount:
    user = await session.scalar(select(UserAccount).where(UserAccount.username == username))
    if user is None:
        verify_password(_DUMMY_HASH, password)
        raise Unauthenticated(_BAD_CREDENTIALS)
    if not verify_password(user.password_hash, password) or not user.is_active:
        raise Unauthenticated(_BAD_CREDENTIALS)
    return user


def issue_token(settings: AuthSettings, user: UserAccount) -> tuple[str, datetime]:
    issued_at = datetime.now(timezone.utc)
    expires_at = issued_at + timedelta(seconds=settings.token_ttl_seconds)
    claims = {"sub": str(user.id), "iss": settings.token_issuer, "iat": issued_at, "exp": expires_at}
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
                            issuer=settings.token_issuer, options={"require": ["sub", "exp", "iat"]})
        user_id = uuid.UUID(claims["sub"])
    except (jwt.PyJWTError, ValueError) as error:
        raise Unauthenticated(_BAD_TOKEN) from error
    user = await session.get(UserAccount, user_id)
    if user is None or not user.is_active:
        raise Unauthenticated(_BAD_TOKEN)
    if user.tokens_valid_after is not None and claims["iat"] < int(user.tokens_valid_after.timestamp()):
        raise Unauthenticated(_BAD_TOKEN)
    return await principal_for_user(session, user)


async def _principal_from_api_key(session: AsyncSession, credential: str) -> Principal:
    parts = credential.split("_", 2)
    if len(parts) != 3:
        raise Unauthenticated(_BAD_TOKEN)
    _, prefix, secret = parts
    key = await session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or key.revoked_at is not None:
        raise Unauthenticated(_BAD_TOKEN)
    if not hmac.compare_digest(key.secret_hash, hash_api_secret(secret)):
        raise Unauthenticated(_BAD_TOKEN)
    key.last_used_at = utcnow()
    return Principal(role=Role.AGENCY_LIAISON, username=f"api-key:{key.name}", api_key_id=key.id,
                     agency_id=key.agency_id)


async def principal_for_user(session: AsyncSession, user: UserAccount) -> Principal:
    scope_root = user.jurisdiction_id
    if user.role is Role.PROSECUTOR:
        scope_root = await session.scalar(
            select(Procuratorate.jurisdiction_id).where(Procuratorate.id == user.procuratorate_id))
    visible = await jurisdiction_subtree(session, scope_root) if scope_root else frozenset()
    return Principal(role=user.role, username=user.username, user_id=user.id,
                     agency_id=user.agency_id, procuratorate_id=user.procuratorate_id,
                     jurisdiction_id=scope_root, visible_jurisdiction_ids=visible)


async def jurisdiction_subtree(session: AsyncSession, root_id: uuid.UUID) -> frozenset[uuid.UUID]:
    tree = select(Jurisdiction.id).where(Jurisdiction.id == root_id).cte("tree", recursive=True)
    tree = tree.union_all(select(Jurisdiction.id).where(Jurisdiction.parent_id == tree.c.id))
    return frozenset(await session.scalars(select(tree.c.id)))
