"""The referral's statuses and the actions that move it between them (referral.flows has the table)."""

from __future__ import annotations

import enum


class ReferralStatus(str, enum.Enum):
    SUBMITTED = "SUBMITTED"  # 已移送，待登记
    WITHDRAWN = "WITHDRAWN"  # 已撤回
    REGISTERED = "REGISTERED"  # 已登记受理


class ReferralAction(str, enum.Enum):
    # The values are what the history table records and what INVALID_TRANSITION reports.
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    REGISTER = "register"
