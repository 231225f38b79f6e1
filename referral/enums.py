"""The referral's statuses and the actions that move it between them (referral.flows has the table)."""

from __future__ import annotations

import enum


class ReferralStatus(str, enum.Enum):
    SUBMITTED = "SUBMITTED"  # 已移送，待登记
    WITHDRAWN = "WITHDRAWN"  # 已撤回
    REGISTERED = "REGISTERED"  # 已登记受理
    RETURNED = "RETURNED"  # 退回补充材料
    # 不予立案: the procuratorate, having evaluated a registered clue, decides it does not warrant
    # a case (the rules of procedure call the decision 不立案). Not 不予受理: that would refuse to
    # accept the clue at all, and registration (登记受理) has already accepted it.
    DECLINED = "DECLINED"
    CASE_FILED = "CASE_FILED"  # 已立案: the procuratorate filed a case from it (cases.service)


class ReferralAction(str, enum.Enum):
    # The values are what the history table records and what INVALID_TRANSITION reports.
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    REGISTER = "register"
    RETURN = "return"
    RESUBMIT = "resubmit"
    DECLINE = "decline"
    FILE_CASE = "file_case"
