"""Unified social credit codes (统一社会信用代码, GB 32100-2015).

18 characters from a 31-symbol alphabet (digits and capitals without I, O, Z, S, V); the last one
is a check character over the first 17 with weights 3^i mod 31."""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_SHAPE = re.compile(rf"^[{ALPHABET}]{{2}}[0-9]{{6}}[{ALPHABET}]{{10}}$")


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """Why `code` is not a valid USCC, or None when it is."""
    if len(code) != 18:
        return "统一社会信用代码应为18位 / a unified social credit code has 18 characters"
    if not _SHAPE.match(code):
        return ("统一社会信用代码含有非法字符 / the code may only use digits and capital letters "
                "other than I, O, Z, S, V, with a six-digit division code in positions 3-8")
    if check_character(code[:17]) != code[17]:
        return "统一社会信用代码校验位错误 / the check character does not match"
    return None
