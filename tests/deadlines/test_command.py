"""`python -m app.manage load-calendar`: the operator's way to copy a year from chinese-calendar."""

from __future__ import annotations

from app.manage import main


def test_load_calendar_from_the_command_line(settings):
    # The years the table has already are copied again unchanged (no new revision, nothing recomputed).
    assert main(["load-calendar", "--year", "2025", "--year", "2026"]) == 0
    # A year the package does not have is an error the operator sees.
    assert main(["load-calendar", "--year", "2999"]) == 1
