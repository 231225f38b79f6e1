"""Rules for jurisdictions, agencies, accounts and API keys."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.auth import hash_password, new_api_key, verify_password
from agencies.models import (
    Agency,
    AgencyKind,
    ApiKey,
    Jurisdiction,
    JurisdictionLevel,
    Procuratorate,
    Role,
    UserAccount,
)
from agencies.principal import Principal
from agencies.scoping import visible_to
from agencies.uscc import uscc_problem
from core.db import utcnow
from core.errors import Conflict, NotFound, ValidationFailed
from core.permissions import require
from core.text import clean_text
from geo.boundaries import check_boundary
from geo.geometry import AREAL_TYPES, CoordinateSystem, parse_geometry

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD_LENGTH = 10


def _parse_id(value: str | uuid.UUID) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


async def _flush_unique(session: AsyncSession, what: str, field: str | None = None) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        raise Conflict(f"{what} 已存在 / {what} already exists", field=field) from error


# Jurisdictions ------------------------------------------------------------------------------------

async def list_jurisdictions(session: AsyncSession, *, principal: Principal) -> list[Jurisdiction]:
    # The administrative map is public knowledge; every signed-in user may read it.
    return list(await session.scalars(select(Jurisdiction).order_by(Jurisdiction.code)))


async def get_jurisdiction_by_code(session: AsyncSession, code: str, *,
                                   field: str = "jurisdictionCode") -> Jurisdiction:
    jurisdiction = await session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))
    if jurisdiction is None:
        raise NotFound(f"行政区划 {code} 不存在 / no jurisdiction with code {code}", field=field)
    return jurisdiction


@dataclass(frozen=True)
class NewJurisdiction:
    code: str
    name: str
    level: JurisdictionLevel
    boundary: object
    crs: CoordinateSystem
    parent_code: str | None
    procuratorate_name: str
    procuratorate_code: str | None = None  # 机关代字; derived from the name when not given


async def create_jurisdiction(session: AsyncSession, *, principal: Principal,
                              data: NewJurisdiction) -> Jurisdiction:
    require(principal, Role.ADMIN, users_only=True)
    if not re.fullmatch(r"[1-9][0-9]{5}", data.code):
        raise ValidationFailed("行政区划代码应为6位数字 / the GB/T 2260 code has six digits",
                               field="code")
    parent = None
    if data.parent_code:
        parent = await get_jurisdiction_by_code(session, data.parent_code, field="parentCode")
        if not data.code.startswith(_code_stem(parent)) or data.code == parent.code:
            raise ValidationFailed(
                f"代码 {data.code} 不属于上级 {parent.code} / code {data.code} does not lie under "
                f"{parent.code}", field="code")
    boundary = parse_geometry(data.boundary, data.crs, field="boundary", allowed=AREAL_TYPES)
    if boundary.geom_type == "Polygon":
        boundary = MultiPolygon([boundary])
    await check_boundary(session, boundary=boundary, parent_id=parent.id if parent else None)
    jurisdiction = Jurisdiction(
        code=data.code, name=clean_text(data.name, "name", 100, required=True), level=data.level,
        parent_id=parent.id if parent else None, boundary=from_shape(boundary, srid=4326))
    session.add(jurisdiction)
    await _flush_unique(session, f"行政区划 {data.code}")
    document_code = _document_code(data.procuratorate_code, jurisdiction.name)
    session.add(Procuratorate(name=clean_text(data.procuratorate_name, "procuratorateName", 100, required=True),
                              jurisdiction_id=jurisdiction.id, document_code=document_code))
    await _flush_unique(session, f"检察院代字 {document_code}", field="procuratorateCode")
    return jurisdiction


# Division suffixes a procuratorate's 代字 leaves out, longest first (浦东新区 → 浦东, not 浦东新).
_DIVISION_SUFFIXES = ("自治州", "自治县", "自治旗", "新区", "地区", "林区", "矿区", "特区",
                      "区", "县", "市", "州", "盟", "旗", "省")
_DOCUMENT_CODE = re.compile(r"[^\s〔〕\[\]()（）]{1,20}")


def default_document_code(jurisdiction_name: str) -> str:
    """The usual 代字 of a division's procuratorate: its name without the division suffix, then 检
    (卫东区 → 卫东检, 平顶山市 → 平顶山检, 郏县 → 郏检). Unlike "the first two characters", this
    keeps three-character names whole; where custom differs (河南省 → 豫检), the administrator
    gives the code."""
    for suffix in _DIVISION_SUFFIXES:
        if jurisdiction_name.endswith(suffix) and len(jurisdiction_name) > len(suffix):
            return jurisdiction_name[:-len(suffix)] + "检"
    return jurisdiction_name + "检"


def _document_code(given: str | None, jurisdiction_name: str) -> str:
    code = (given or "").strip() or default_document_code(jurisdiction_name)
    if not _DOCUMENT_CODE.fullmatch(code):
        raise ValidationFailed("检察院代字应为1-20个字符，不含空格和括号 / procuratorateCode is 1-20 characters "
                               "without spaces or brackets", field="procuratorateCode")
    return code


def _code_stem(parent: Jurisdiction) -> str:
    """GB/T 2260 codes are two digits each of province, city and county: what every code under
    `parent` starts with (410000 → "41", 410400 → "4104", 411000 → "4110")."""
    return {JurisdictionLevel.PROVINCE: parent.code[:2], JurisdictionLevel.CITY: parent.code[:4]}.get(
        parent.level, parent.code)


# Batch lookups for DataLoaders: one IN query each, keyed by what was asked for. Jurisdictions and
# procuratorates are the public administrative map; agencies go through the scope.

async def jurisdictions_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Jurisdiction]:
    return {row.id: row for row in await session.scalars(select(Jurisdiction).where(Jurisdiction.id.in_(ids)))}


async def procuratorates_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Procuratorate]:
    rows = await session.scalars(select(Procuratorate).where(Procuratorate.id.in_(ids)))
    return {row.id: row for row in rows}


async def procuratorates_by_jurisdiction(session: AsyncSession,
                                         jurisdiction_ids: list[uuid.UUID]) -> dict[uuid.UUID, Procuratorate]:
    rows = await session.scalars(
        select(Procuratorate).where(Procuratorate.jurisdiction_id.in_(jurisdiction_ids)))
    return {row.jurisdiction_id: row for row in rows}


async def agencies_by_id(session: AsyncSession, *, principal: Principal,
                         ids: list[uuid.UUID]) -> dict[uuid.UUID, Agency]:
    """The agencies among `ids` the principal may see; the others are simply absent."""
    rows = await session.scalars(select(Agency).where(
        Agency.id.in_(ids),
        visible_to(principal, agency_column=Agency.id, jurisdiction_column=Agency.jurisdiction_id)))
    return {row.id: row for row in rows}


async def account_of(session: AsyncSession, *, principal: Principal) -> UserAccount | None:
    """The signed-in user's own account (None for an API key)."""
    if principal.account is not None:
        return principal.account
    return await session.get(UserAccount, principal.user_id) if principal.user_id else None


# Agencies -----------------------------------------------------------------------------------------

async def list_agencies(session: AsyncSession, *, principal: Principal,
                        jurisdiction_code: str | None = None) -> list[Agency]:
    query = select(Agency).where(
        visible_to(principal, agency_column=Agency.id, jurisdiction_column=Agency.jurisdiction_id))
    if jurisdiction_code:
        query = query.join(Jurisdiction, Jurisdiction.id == Agency.jurisdiction_id).where(
            Jurisdiction.code == jurisdiction_code)
    return list(await session.scalars(query.order_by(Agency.name)))


async def get_agency(session: AsyncSession, *, principal: Principal, agency_id: str | uuid.UUID) -> Agency:
    parsed = _parse_id(agency_id)
    agency = None
    if parsed is not None:
        agency = await session.scalar(select(Agency).where(
            Agency.id == parsed,
            visible_to(principal, agency_column=Agency.id, jurisdiction_column=Agency.jurisdiction_id)))
    if agency is None:
        raise NotFound("执法机关不存在 / agency not found")
    return agency


async def create_agency(session: AsyncSession, *, principal: Principal, name: str, kind: AgencyKind,
                        uscc: str, jurisdiction_code: str) -> Agency:
    require(principal, Role.ADMIN, users_only=True)
    uscc = (uscc or "").strip().upper()
    if problem := uscc_problem(uscc):
        raise ValidationFailed(problem, field="uscc")
    jurisdiction = await get_jurisdiction_by_code(session, jurisdiction_code)
    agency = Agency(name=clean_text(name, "name", 200, required=True), kind=kind, uscc=uscc,
                    jurisdiction_id=jurisdiction.id)
    session.add(agency)
    await _flush_unique(session, f"统一社会信用代码 {uscc}")
    return agency


# Accounts -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewUser:
    username: str
    display_name: str
    password: str
    role: Role
    agency_id: str | None = None
    procuratorate_id: str | None = None
    jurisdiction_code: str | None = None


async def create_user(session: AsyncSession, *, principal: Principal, data: NewUser) -> UserAccount:
    require(principal, Role.ADMIN, users_only=True)
    username = data.username.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise ValidationFailed("用户名为3-64位小写字母、数字或 . _ - / username: 3-64 of a-z 0-9 . _ -",
                               field="username")
    _check_password(data.password, field="password")
    user = UserAccount(username=username, display_name=clean_text(data.display_name, "displayName", 100, required=True),
                       password_hash=await hash_password(data.password), role=data.role)
    if data.role is Role.AGENCY_LIAISON:
        user.agency_id = await _required_reference(session, Agency, data.agency_id, "agencyId")
    elif data.role is Role.PROSECUTOR:
        user.procuratorate_id = await _required_reference(session, Procuratorate,
                                                          data.procuratorate_id, "procuratorateId")
    elif data.role is Role.ASSESSOR:
        if not data.jurisdiction_code:
            raise ValidationFailed("评估员须指定行政区划 / an assessor needs a jurisdiction",
                                   field="jurisdictionCode")
        user.jurisdiction_id = (await get_jurisdiction_by_code(session, data.jurisdiction_code)).id
    session.add(user)
    await _flush_unique(session, f"用户名 {username}")
    return user


async def change_password(session: AsyncSession, *, principal: Principal, current_password: str,
                          new_password: str) -> UserAccount:
    """A signed-in user replaces their own password, proving they know the current one."""
    require(principal, users_only=True)
    user = await session.get(UserAccount, principal.user_id)
    if not await verify_password(user.password_hash, current_password):
        raise ValidationFailed("当前密码不正确 / the current password is wrong", field="currentPassword")
    _check_password(new_password, field="newPassword")
    if new_password == current_password:
        raise ValidationFailed("新密码不能与当前密码相同 / choose a different password", field="newPassword")
    user.password_hash = await hash_password(new_password)
    # Every session signed in with the old password ends. Incremented in SQL, so a concurrent
    # disable cannot write back the same number.
    user.token_version = UserAccount.token_version + 1
    await session.flush()
    return user


def _check_password(password: str, *, field: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"密码至少{MIN_PASSWORD_LENGTH}位 / the password needs at least "
                               f"{MIN_PASSWORD_LENGTH} characters", field=field)


async def list_users(session: AsyncSession, *, principal: Principal, role: Role | None = None,
                     agency_id: str | None = None) -> list[UserAccount]:
    require(principal, Role.ADMIN, users_only=True)
    query = select(UserAccount).order_by(UserAccount.username)
    if role is not None:
        query = query.where(UserAccount.role == role)
    if agency_id is not None:
        parsed = _parse_id(agency_id)
        if parsed is None:  # as None it would become IS NULL: every account without an agency
            raise ValidationFailed("agencyId 不是有效的 ID / agencyId is not a valid id", field="agencyId")
        query = query.where(UserAccount.agency_id == parsed)
    return list(await session.scalars(query))


async def _required_reference(session: AsyncSession, model, value: str | None, field: str) -> uuid.UUID:
    parsed = _parse_id(value) if value else None
    if parsed is None or await session.get(model, parsed) is None:
        raise ValidationFailed(f"{field} 无效或缺失 / {field} is missing or unknown", field=field)
    return parsed


async def set_user_active(session: AsyncSession, *, principal: Principal, user_id: str,
                          active: bool) -> UserAccount:
    require(principal, Role.ADMIN, users_only=True)
    parsed = _parse_id(user_id)
    user = await session.get(UserAccount, parsed) if parsed else None
    if user is None:
        raise NotFound("用户不存在 / user not found")
    if user.id == principal.user_id and not active:
        raise ValidationFailed("不能停用自己的账号 / you cannot disable your own account", field="userId")
    if user.is_active and not active:
        user.token_version = UserAccount.token_version + 1  # its tokens stay dead once re-enabled
    user.is_active = active
    await session.flush()
    return user


# API keys -----------------------------------------------------------------------------------------

async def issue_api_key(session: AsyncSession, *, principal: Principal, agency_id: str,
                        name: str) -> tuple[ApiKey, str]:
    """A new key for an agency's system, and its plain text, which is shown only this once."""
    require(principal, Role.ADMIN, Role.AGENCY_LIAISON, users_only=True)
    agency = await get_agency(session, principal=principal, agency_id=agency_id)
    prefix, secret_hash, plaintext = new_api_key()
    key = ApiKey(agency_id=agency.id, name=clean_text(name, "name", 100, required=True), prefix=prefix,
                 secret_hash=secret_hash, created_by_user_id=principal.user_id)
    session.add(key)
    await session.flush()
    return key, plaintext


async def revoke_api_key(session: AsyncSession, *, principal: Principal, key_id: str) -> ApiKey:
    require(principal, Role.ADMIN, Role.AGENCY_LIAISON, users_only=True)
    parsed = _parse_id(key_id)
    key = None
    if parsed is not None:
        key = await session.scalar(select(ApiKey).join(Agency, Agency.id == ApiKey.agency_id).where(
            ApiKey.id == parsed,
            visible_to(principal, agency_column=Agency.id, jurisdiction_column=Agency.jurisdiction_id)))
    if key is None:
        raise NotFound("API 密钥不存在 / API key not found")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await session.flush()
    return key


async def list_api_keys(session: AsyncSession, *, principal: Principal, agency_id: str) -> list[ApiKey]:
    require(principal, Role.ADMIN, Role.AGENCY_LIAISON, users_only=True)
    agency = await get_agency(session, principal=principal, agency_id=agency_id)
    return list(await session.scalars(
        select(ApiKey).where(ApiKey.agency_id == agency.id).order_by(ApiKey.created_at.desc())))
