"""The rubric: loaded from its file by the command, new versions by an administrator, checked;
a closed period keeps the version it was scored with."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from app.manage import load_rubric, main
from assessment.rubric import RUBRIC_FILE
from tests.assessment.fixture import build, on
from tests.assessment.queries import ASSESSMENT, CLOSE, CREATE_RUBRIC, RUBRICS, as_user
from tests.conftest import error_codes, uscc

Q4 = {"year": 2025, "quarter": 4}


def new_version(world, **overrides) -> dict:
    value = {"version": "2026.2", "nameZh": "考核细则（修订）", "nameEn": "Rubric (revised)",
             "referralTargetPerQuarter": 2, "objectionWindowWorkingDays": 5,
             "indicators": [{"code": "ENFORCEMENT_TIMELINESS", "points": 10, "nameZh": "录入", "nameEn": "Entry"},
                            {"code": "CLUE_REFERRAL", "points": 30, "nameZh": "移送", "nameEn": "Referral"},
                            {"code": "REPLY_ON_TIME", "points": 30, "nameZh": "回复", "nameEn": "Replies"},
                            {"code": "RECTIFICATION", "points": 30, "nameZh": "整改", "nameEn": "Rectification"}],
             "deductions": [{"code": "OVERDUE_UNREPLIED", "points": 5, "nameZh": "逾期", "nameEn": "Overdue"},
                            {"code": "LITIGATION", "points": 10, "nameZh": "诉讼", "nameEn": "Litigation"}],
             "referralTargets": [{"agencyId": world.ids["agency:A"], "target": 1}]}
    value.update(overrides)
    return value


async def test_the_command_loads_the_file_once(client, world, tmp_path):
    assert await asyncio.to_thread(main, ["load-rubric"]) == 0
    assert await asyncio.to_thread(main, ["load-rubric"]) == 0  # the same version again: nothing changes
    body = await as_user(client, world, "liaison-a", RUBRICS)
    [rubric] = body["data"]["assessmentRubrics"]
    assert (rubric["version"], rubric["source"], rubric["floor"], rubric["objectionWindowWorkingDays"],
            rubric["referralTargetPerQuarter"]) == ("2026.1", "rubric.toml", 0, 10, 2)
    assert [(item["code"], item["points"]) for item in rubric["indicators"]] == [
        ("ENFORCEMENT_TIMELINESS", 20), ("CLUE_REFERRAL", 20), ("REPLY_ON_TIME", 30), ("RECTIFICATION", 30)]
    assert [(item["code"], item["points"]) for item in rubric["deductions"]] == [
        ("OVERDUE_UNREPLIED", 5), ("LITIGATION", 10)]
    # The same version with other content is refused: a version is never edited.
    changed = tmp_path / "rubric.toml"
    changed.write_text(RUBRIC_FILE.read_text(encoding="utf-8").replace("weight = 20", "weight = 25", 1)
                       .replace("weight = 30", "weight = 25", 1), encoding="utf-8")
    assert await asyncio.to_thread(main, ["load-rubric", str(changed)]) == 1
    # Weights that do not add up to 100 are refused whatever the version.
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(RUBRIC_FILE.read_text(encoding="utf-8").replace('version = "2026.1"', 'version = "9"')
                     .replace("weight = 20", "weight = 21", 1), encoding="utf-8")
    assert await asyncio.to_thread(main, ["load-rubric", str(wrong)]) == 1
    assert len((await as_user(client, world, "admin", RUBRICS))["data"]["assessmentRubrics"]) == 1


async def test_prepare_loads_the_file_only_into_an_empty_database(client, world, settings):
    body = await as_user(client, world, "admin", CREATE_RUBRIC, input=new_version(world))
    assert "errors" not in body, body
    # An installation with a rubric of its own keeps it.
    assert await asyncio.to_thread(asyncio.run, load_rubric(settings, None, only_if_none=True)) == 0
    versions = [row["version"] for row in (await as_user(client, world, "admin", RUBRICS))["data"]["assessmentRubrics"]]
    assert versions == ["2026.2"]
    # The command itself loads the file whatever is there.
    assert await asyncio.to_thread(main, ["load-rubric"]) == 0
    versions = [row["version"] for row in (await as_user(client, world, "admin", RUBRICS))["data"]["assessmentRubrics"]]
    assert versions == ["2026.1", "2026.2"]


async def test_an_administrator_creates_a_version_that_scores_open_periods(client, world, monkeypatch, rubric):
    await build(client, world, monkeypatch)
    with on(monkeypatch, date(2026, 1, 5)):
        assert "errors" not in await as_user(client, world, "assessor-1", CLOSE, **Q4)
    body = await as_user(client, world, "admin", CREATE_RUBRIC, input=new_version(world))
    assert "errors" not in body, body
    created = body["data"]["createAssessmentRubricVersion"]
    assert (created["version"], created["source"], created["referralTargets"]) == (
        "2026.2", "administrator", [{"uscc": uscc("410101", 1), "target": 1}])
    versions = [row["version"] for row in (await as_user(client, world, "assessor-1", RUBRICS))
                ["data"]["assessmentRubrics"]]
    assert versions == ["2026.2", "2026.1"]
    # District 1 was closed under 2026.1 and keeps it; district 2 is scored with the new version.
    rows = {row["agency"]["name"]: row for row in (await as_user(client, world, "admin", ASSESSMENT, **Q4))
            ["data"]["assessment"]["agencies"]}
    assert (rows["机关A"]["rubricVersion"], rows["机关A"]["score"]) == ("2026.1", "10.00")
    assert (rows["机关C"]["rubricVersion"], rows["机关C"]["score"]) == ("2026.2", "70.00")  # 10 + 0 + 30 + 30


@pytest.mark.parametrize(("overrides", "code", "field"), [
    ({"version": "2026.1"}, "CONFLICT", "version"),
    ({"version": " "}, "VALIDATION", "version"),
    ({"objectionWindowWorkingDays": 0}, "VALIDATION", "objectionWindowWorkingDays"),
    ({"referralTargetPerQuarter": -1}, "VALIDATION", "referralTargetPerQuarter"),
    ({"floor": 101}, "VALIDATION", "floor"),
])
async def test_invalid_versions(client, world, rubric, overrides, code, field):
    body = await as_user(client, world, "admin", CREATE_RUBRIC, input=new_version(world, **overrides))
    assert error_codes(body) == [code]
    assert body["errors"][0]["extensions"]["field"] == field


async def test_weights_and_items_are_checked(client, world, rubric):
    value = new_version(world)
    value["indicators"][0]["points"] = 20  # 110 in all
    body = await as_user(client, world, "admin", CREATE_RUBRIC, input=value)
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "indicators"
    value = new_version(world)
    value["indicators"][1]["code"] = "ENFORCEMENT_TIMELINESS"
    body = await as_user(client, world, "admin", CREATE_RUBRIC, input=value)
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "indicators.1.code"
    value = new_version(world, deductions=[])
    body = await as_user(client, world, "admin", CREATE_RUBRIC, input=value)
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "deductions"
    value = new_version(world, referralTargets=[{"agencyId": "00000000-0000-0000-0000-000000000000", "target": 1}])
    body = await as_user(client, world, "admin", CREATE_RUBRIC, input=value)
    assert error_codes(body) == ["VALIDATION"]
    assert body["errors"][0]["extensions"]["field"] == "referralTargets.0.agencyId"


@pytest.mark.parametrize("user", ["assessor-1", "prosecutor-1", "liaison-a"])
async def test_only_an_administrator_creates_versions(client, world, rubric, user):
    body = await as_user(client, world, user, CREATE_RUBRIC, input=new_version(world))
    assert error_codes(body) == ["FORBIDDEN"]
