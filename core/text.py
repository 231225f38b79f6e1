"""The one text cleaner every service uses for free-text input."""

from __future__ import annotations

from core.errors import ValidationFailed


def clean_text(value: str | None, field: str, max_length: int, *, required: bool) -> str | None:
    """`value` without surrounding whitespace; None when empty and not required. An empty required
    value, or one longer than `max_length` characters, is VALIDATION on `field`."""
    value = (value or "").strip()
    if not value:
        if required:
            raise ValidationFailed(f"{field} 不能为空 / {field} is required", field=field)
        return None
    if len(value) > max_length:
        raise ValidationFailed(f"{field} 过长 / {field} is longer than {max_length} characters", field=field)
    return value
