"""The reminder and escalation rules as data: read once from escalation.toml beside this module."""

from __future__ import annotations

import enum
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from deadlines.rules import CODES

ESCALATION_FILE = Path(__file__).with_name("escalation.toml")


class Audience(str, enum.Enum):
    AGENCY_LIAISONS = "AGENCY_LIAISONS"
    PROCURATORATE = "PROCURATORATE"
    PROSECUTOR_IN_CHARGE = "PROSECUTOR_IN_CHARGE"
    ASSESSMENT_OFFICE = "ASSESSMENT_OFFICE"


@dataclass(frozen=True)
class Step:
    after_working_days: int
    notify: Audience


@dataclass(frozen=True)
class Chain:
    owed_by: Audience
    steps: tuple[Step, ...]  # the first is the overdue notice itself (0 working days past due)


@dataclass(frozen=True)
class Escalation:
    due_soon_working_days: int
    milestones: tuple[int, ...]
    chains: dict[str, Chain]  # by deadline rule code


def parse_escalation(text: str) -> Escalation:
    """The rules of an escalation.toml text, checked: every deadline rule has exactly one chain,
    whose steps start at the due date and climb."""
    data = tomllib.loads(text)
    chains: dict[str, Chain] = {}
    for entry in data["chain"]:
        steps = tuple(Step(after_working_days=step["after_working_days"], notify=Audience(step["notify"]))
                      for step in entry["steps"])
        delays = [step.after_working_days for step in steps]
        if not steps or delays[0] != 0 or delays != sorted(set(delays)):
            raise ValueError(f"chain of {entry['rules']}: steps must start at 0 and climb, not {delays}")
        for code in entry["rules"]:
            if code in chains:
                raise ValueError(f"rule {code} has two chains")
            chains[code] = Chain(owed_by=Audience(entry["owed_by"]), steps=steps)
    if set(chains) != CODES:
        raise ValueError(f"escalation.toml must give a chain to exactly {sorted(CODES)}, not {sorted(chains)}")
    milestones = tuple(data["milestones"])
    if milestones != tuple(sorted(set(milestones))) or not all(0 < value < 100 for value in milestones):
        raise ValueError(f"milestones must be rising percentages, not {milestones}")
    if data["due_soon_working_days"] < 1:
        raise ValueError("due_soon_working_days must be at least 1")
    return Escalation(due_soon_working_days=data["due_soon_working_days"], milestones=milestones, chains=chains)


@cache
def escalation() -> Escalation:
    return parse_escalation(ESCALATION_FILE.read_text(encoding="utf-8"))
