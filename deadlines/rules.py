"""The deadline rules as data: read once from rules.toml beside this module.

A rule says how long a period is, in what unit, from what event, on what legal source; a
deadline is opened under a rule's code and keeps the rule's version, so a changed period never
silently rewrites the deadlines already running."""

from __future__ import annotations

import enum
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from core.errors import ValidationFailed

RULES_FILE = Path(__file__).with_name("rules.toml")


class Unit(str, enum.Enum):
    WORKING_DAYS = "WORKING_DAYS"
    DAYS = "DAYS"
    MONTHS = "MONTHS"
    GIVEN = "GIVEN"  # the due date comes from a document (a rectification plan), not from a period


# The codes the other packages name; rules.toml must define each (and nothing else).
REFERRAL_ACKNOWLEDGEMENT = "REFERRAL_ACKNOWLEDGEMENT"
RECOMMENDATION_REPLY = "RECOMMENDATION_REPLY"
RECOMMENDATION_REPLY_URGENT = "RECOMMENDATION_REPLY_URGENT"
CIVIL_ANNOUNCEMENT = "CIVIL_ANNOUNCEMENT"
RECTIFICATION_STAGE = "RECTIFICATION_STAGE"
ENFORCEMENT_ENTRY = "ENFORCEMENT_ENTRY"
CODES = frozenset({REFERRAL_ACKNOWLEDGEMENT, RECOMMENDATION_REPLY, RECOMMENDATION_REPLY_URGENT,
                   CIVIL_ANNOUNCEMENT, RECTIFICATION_STAGE, ENFORCEMENT_ENTRY})


@dataclass(frozen=True)
class Rule:
    code: str
    version: str
    name_zh: str
    name_en: str
    unit: Unit
    period: int | None
    start_event_zh: str
    start_event_en: str
    legal_source: str
    legal_source_en: str
    extends_past_rest_day: bool
    rest_day_source: str

    @property
    def is_computed(self) -> bool:
        return self.unit is not Unit.GIVEN

    @property
    def period_text(self) -> str:
        """The period in words, both languages: "7个工作日 / 7 working days"."""
        if self.unit is Unit.GIVEN:
            return "依文书确定 / as set by the document"
        zh = {Unit.WORKING_DAYS: "个工作日", Unit.DAYS: "日", Unit.MONTHS: "个月"}[self.unit]
        en = {Unit.WORKING_DAYS: "working days", Unit.DAYS: "days", Unit.MONTHS: "months"}[self.unit]
        return f"{self.period}{zh} / {self.period} {en}"


    def snapshot(self) -> dict:
        """The rule as a deadline was computed under it, kept with the deadline: a later version
        of rules.toml neither recomputes nor re-explains a deadline opened before it."""
        return {"code": self.code, "version": self.version, "name_zh": self.name_zh, "name_en": self.name_en,
                "unit": self.unit.value, "period": self.period, "start_event_zh": self.start_event_zh,
                "start_event_en": self.start_event_en, "legal_source": self.legal_source,
                "legal_source_en": self.legal_source_en, "extends_past_rest_day": self.extends_past_rest_day,
                "rest_day_source": self.rest_day_source}

    @classmethod
    def from_snapshot(cls, data: dict) -> Rule:
        return cls(**{**data, "unit": Unit(data["unit"])})


def parse_rules(text: str) -> dict[str, Rule]:
    """The rules in a rules.toml text, checked: every code once, periods only where computed."""
    rules: dict[str, Rule] = {}
    for entry in tomllib.loads(text)["rule"]:
        rule = Rule(code=entry["code"], version=entry["version"], name_zh=entry["name_zh"],
                    name_en=entry["name_en"], unit=Unit(entry["unit"]), period=entry.get("period"),
                    start_event_zh=entry["start_event_zh"], start_event_en=entry["start_event_en"],
                    legal_source=entry["legal_source"], legal_source_en=entry["legal_source_en"],
                    extends_past_rest_day=entry["extends_past_rest_day"],
                    rest_day_source=entry["rest_day_source"])
        if rule.code in rules:
            raise ValueError(f"rule {rule.code} is defined twice")
        if rule.is_computed != (isinstance(rule.period, int) and rule.period > 0):
            raise ValueError(f"rule {rule.code}: a computed unit needs a positive period, GIVEN none")
        rules[rule.code] = rule
    if set(rules) != CODES:
        raise ValueError(f"rules.toml must define exactly {sorted(CODES)}, not {sorted(rules)}")
    return rules


@cache
def all_rules() -> dict[str, Rule]:
    return parse_rules(RULES_FILE.read_text(encoding="utf-8"))


def rule_for(code: str) -> Rule:
    try:
        return all_rules()[code]
    except KeyError:
        raise ValidationFailed(f"未知的期限规则 {code} / unknown deadline rule {code}", field="rule") from None
