"""Citizen identity numbers (公民身份号码, GB 11643-1999).

18 characters: a six-digit administrative division code (GB/T 2260) of where the number was
issued, the birth date as YYYYMMDD, a three-digit sequence number and a check character computed
over the first 17 digits (ISO 7064 MOD 11-2): 0-9 or X.

Messages here never repeat the number: they end up in answers and may end up in logs."""

from __future__ import annotations

import re
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
# Province-level codes of GB/T 2260 (71 Taiwan, 81 Hong Kong, 82 Macao included: their residents'
# mainland numbers use them). The full county list changes every year, so only the province is checked.
PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    "71", "81", "82",
})
EARLIEST_BIRTH_YEAR = 1900
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")


def normalise_identity_number(raw: str | None) -> str:
    """Surrounding blanks dropped and a lower-case check character x made upper-case."""
    return (raw or "").strip().upper()


def check_character(first17: str) -> str:
    return CHECK_CHARACTERS[sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True)) % 11]


def identity_number_problem(number: str, *, today: date | None = None) -> str | None:
    """Why a normalised `number` is not a valid identity number, or None when it is."""
    if len(number) != 18:
        return "身份证号码应为18位 / an identity number has 18 characters"
    if not _SHAPE.match(number):
        return "身份证号码应为17位数字加一位数字或X / an identity number is 17 digits and a digit or X"
    if number[:2] not in PROVINCES:
        return "身份证号码的地区码无效 / the identity number's region code is not a valid division code"
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        born = None
    if born is None or born.year < EARLIEST_BIRTH_YEAR or born > (today or date.today()):
        return "身份证号码的出生日期无效 / the identity number's birth date is not a real date"
    if check_character(number[:17]) != number[17]:
        return "身份证号码校验位错误 / identity number check character is wrong"
    return None


def mask_identity_number(number: str) -> str:
    """The form shown to whoever may not see the number: 4104**********223X."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
