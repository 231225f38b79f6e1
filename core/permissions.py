"""The one role check every service makes before it acts."""

from __future__ import annotations

import enum
from typing import Protocol

from core.errors import Forbidden


class Actor(Protocol):
    """Who acts, as far as core cares: agencies.principal.Principal is one (core sits below
    agencies, so it names the shape rather than the class)."""

    role: enum.Enum
    username: str
    user_id: object
    api_key_id: object

    @property
    def is_api_key(self) -> bool: ...


def require(principal: Actor, *roles: enum.Enum, users_only: bool = False) -> None:
    """FORBIDDEN unless the principal has one of `roles` (any role when none are named) and, with
    `users_only`, is a person rather than an agency system's API key."""
    if users_only and principal.is_api_key:
        raise Forbidden("API 密钥不能执行此操作 / an API key cannot do this")
    if roles and principal.role not in roles:
        raise Forbidden()
