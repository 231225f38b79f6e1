"""The rubric as data: parsed and checked here, whether it comes from rubric.toml or from an
administrator's input, and kept in the database as a version (assessment.models.AssessmentRubric)."""

from __future__ import annotations

import enum
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import ValidationFailed

RUBRIC_FILE = Path(__file__).with_name("rubric.toml")
MAX_OBJECTION_WINDOW = 60
MAX_TARGET = 10_000


class IndicatorCode(str, enum.Enum):
    ENFORCEMENT_TIMELINESS = "ENFORCEMENT_TIMELINESS"
    CLUE_REFERRAL = "CLUE_REFERRAL"
    REPLY_ON_TIME = "REPLY_ON_TIME"
    RECTIFICATION = "RECTIFICATION"
    # Deductions: counted like indicators, each record costs its points.
    OVERDUE_UNREPLIED = "OVERDUE_UNREPLIED"
    LITIGATION = "LITIGATION"


SCORED = (IndicatorCode.ENFORCEMENT_TIMELINESS, IndicatorCode.CLUE_REFERRAL, IndicatorCode.REPLY_ON_TIME,
          IndicatorCode.RECTIFICATION)
DEDUCTIONS = (IndicatorCode.OVERDUE_UNREPLIED, IndicatorCode.LITIGATION)


@dataclass(frozen=True)
class Item:
    code: IndicatorCode
    points: int  # the weight of a scored indicator, the points per record of a deduction
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Rubric:
    version: str
    name_zh: str
    name_en: str
    floor: int
    objection_window_working_days: int
    referral_target_per_quarter: int
    indicators: tuple[Item, ...]
    deductions: tuple[Item, ...]
    # Per-quarter targets of particular agencies, by USCC.
    referral_targets: dict[str, int] = field(default_factory=dict)

    def points(self, code: IndicatorCode) -> int:
        return next(item.points for item in self.indicators + self.deductions if item.code is code)

    def item(self, code: IndicatorCode) -> Item:
        return next(item for item in self.indicators + self.deductions if item.code is code)

    def as_document(self) -> dict:
        def items(entries: tuple[Item, ...], key: str) -> list[dict]:
            return [{"code": item.code.value, key: item.points, "name_zh": item.name_zh, "name_en": item.name_en}
                    for item in entries]

        return {"version": self.version, "name_zh": self.name_zh, "name_en": self.name_en, "floor": self.floor,
                "objection_window_working_days": self.objection_window_working_days,
                "referral_target_per_quarter": self.referral_target_per_quarter,
                "indicator": items(self.indicators, "weight"), "deduction": items(self.deductions, "points"),
                "referral_targets": dict(sorted(self.referral_targets.items()))}


def _integer(value: object, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(f"{field} 应为 {low} 到 {high} 之间的整数 / {field} must be an integer from {low} to "
                               f"{high}", field=field)
    return value


def _text(value: object, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
        raise ValidationFailed(f"{field} 不能为空且不超过 {limit} 字 / {field} is required, at most {limit} "
                               "characters", field=field)
    return value.strip()


def _items(entries: object, codes: tuple[IndicatorCode, ...], key: str, field: str) -> tuple[Item, ...]:
    if not isinstance(entries, list):
        raise ValidationFailed(f"{field} 应为列表 / {field} must be a list", field=field)
    found: dict[IndicatorCode, Item] = {}
    for index, entry in enumerate(entries):
        where = f"{field}.{index}"
        if not isinstance(entry, dict):
            raise ValidationFailed(f"{where} 格式无效 / {where} is malformed", field=where)
        try:
            code = IndicatorCode(entry.get("code"))
        except ValueError:
            code = None
        if code not in codes:
            raise ValidationFailed(f"{where}.code 应为 {', '.join(c.value for c in codes)} 之一 / {where}.code must "
                                   f"be one of {', '.join(c.value for c in codes)}", field=f"{where}.code")
        if code in found:
            raise ValidationFailed(f"{code.value} 重复 / {code.value} appears twice", field=f"{where}.code")
        found[code] = Item(code=code, points=_integer(entry.get(key), f"{where}.{key}", 0, 100),
                           name_zh=_text(entry.get("name_zh"), f"{where}.nameZh", 100),
                           name_en=_text(entry.get("name_en"), f"{where}.nameEn", 200))
    if missing := [code.value for code in codes if code not in found]:
        raise ValidationFailed(f"缺少 {', '.join(missing)} / missing {', '.join(missing)}", field=field)
    return tuple(found[code] for code in codes)


def parse_rubric(data: dict) -> Rubric:
    """A rubric from its document (the TOML file's tables, or an administrator's input made into
    one), checked: every indicator and deduction once, weights adding up to 100, sane numbers.
    Each refusal names the field at fault."""
    indicators = _items(data.get("indicator"), SCORED, "weight", "indicators")
    if (total := sum(item.points for item in indicators)) != 100:
        raise ValidationFailed(f"各项权重之和应为 100，现为 {total} / the weights must add up to 100, not {total}",
                               field="indicators")
    targets = data.get("referral_targets") or {}
    if not isinstance(targets, dict):
        raise ValidationFailed("referral_targets 格式无效 / referral_targets is malformed", field="referralTargets")
    checked_targets = {}
    for uscc, target in targets.items():
        if not isinstance(uscc, str) or len(uscc) != 18:
            raise ValidationFailed(f"{uscc!r} 不是统一社会信用代码 / {uscc!r} is not a unified social credit code",
                                   field="referralTargets")
        checked_targets[uscc] = _integer(target, "referralTargets", 0, MAX_TARGET)
    return Rubric(
        version=_text(data.get("version"), "version", 40),
        name_zh=_text(data.get("name_zh"), "nameZh", 100), name_en=_text(data.get("name_en"), "nameEn", 200),
        floor=_integer(data.get("floor", 0), "floor", 0, 100),
        objection_window_working_days=_integer(data.get("objection_window_working_days"),
                                               "objectionWindowWorkingDays", 1, MAX_OBJECTION_WINDOW),
        referral_target_per_quarter=_integer(data.get("referral_target_per_quarter"), "referralTargetPerQuarter", 0,
                                             MAX_TARGET),
        indicators=indicators, deductions=_items(data.get("deduction"), DEDUCTIONS, "points", "deductions"),
        referral_targets=checked_targets)


def default_rubric(path: Path = RUBRIC_FILE) -> Rubric:
    return parse_rubric(tomllib.loads(path.read_text(encoding="utf-8")))
