"""The steps of a recommendation's life through the API, for the tests of this package.

The world (tests/conftest.py): agencies A and B in district 1 (410101), C in district 2. A's
liaison refers the clue; the case is district 1's; the recommendation goes to B unless a test says
otherwise, so the referring agency and the addressee differ."""

from __future__ import annotations

from core import clock
from tests.cases.test_file_case import file_case
from tests.conftest import graphql, graphql_upload
from tests.referral.test_return_and_decline import in_status
from tests.referral.test_submit import PNG

PHOTO = ("site.png", PNG, "image/png")
PDF = ("plan.pdf", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n",
       "application/pdf")

RECOMMENDATION_FIELDS = """
  id number status urgent content measures legalBasis issuedOn servedOn
  serviceWitnesses { name role } addressee { id name } case { id status } jurisdiction { code }
  replied rectification rectificationVerifiedOn
  history { action fromStatus toStatus actorName reason }"""
ISSUE = """mutation($caseId: ID!, $input: IssueRecommendationInput!) {
  issueRecommendation(caseId: $caseId, input: $input) {""" + RECOMMENDATION_FIELDS + " } }"
SERVE = """mutation($id: ID!, $input: RecordRecommendationServedInput!) {
  recordRecommendationServed(id: $id, input: $input) {""" + RECOMMENDATION_FIELDS + " } }"
RECOMMENDATION = "query($id: ID!) { recommendation(id: $id) {" + RECOMMENDATION_FIELDS + """
  reply { id accepted reasons measuresTaken repliedOn actorName
          stages { id position milestone dueOn percentComplete }
          attachments { id filename sha256 downloadPath } }
  progressReports { note actorName stageUpdates { stageId milestone fromPercent toPercent }
                    attachments { filename sha256 downloadPath } }
  checks { id result checkedOn findings location openItems { id description firstCheckId } followUpOfId
           actorName evidence { filename sha256 downloadPath } } } }"""
REPLY = """mutation($id: ID!, $input: ReplyToRecommendationInput!, $attachments: [EvidenceInput!]) {
  replyToRecommendation(recommendationId: $id, input: $input, attachments: $attachments) {
    status replied rectification reply { accepted stages { id milestone percentComplete } attachments { sha256 } } } }"""
REPORT = """mutation($id: ID!, $input: ReportRectificationProgressInput!, $attachments: [EvidenceInput!]) {
  reportRectificationProgress(recommendationId: $id, input: $input, attachments: $attachments) {
    status rectification reply { stages { id milestone percentComplete } }
    progressReports { note stageUpdates { milestone fromPercent toPercent } attachments { sha256 } } } }"""
CHECK = """mutation($id: ID!, $result: RectificationResult!, $input: RecordRectificationCheckInput!,
                    $evidence: [EvidenceInput!]) {
  recordRectificationCheck(recommendationId: $id, result: $result, input: $input, evidence: $evidence) {
    id result checkedOn findings location openItems { id description firstCheckId } followUpOfId actorName
    evidence { id filename sha256 downloadPath }
    recommendation { status rectification rectificationVerifiedOn replied } } }"""
CASE = "query($id: ID!) { case(id: $id) { status history { action fromStatus toStatus reason } } }"

SITE = {"type": "Point", "coordinates": [113.205, 34.505]}


def recommendation_number(code: str, serial: int) -> str:
    return f"{code}公益建〔{clock.today().year}〕{serial}号"


def today() -> str:
    return clock.today().isoformat()


def ok(body: dict, field: str) -> dict:
    assert "errors" not in body, body
    return body["data"][field]


async def administrative_case(client, world, kind: str = "ADMINISTRATIVE") -> str:
    """A case of district 1 filed from a referral of agency A."""
    referral_id = await in_status(client, world, "REGISTERED")
    return ok(await file_case(client, world, referral_id, kind=kind), "fileCase")["id"]


def draft(world, addressee: str = "B", **overrides) -> dict:
    value = {"addresseeAgencyId": world.ids[f"agency:{addressee}"],
             "content": "经查，辖区内存在非法占用林地未恢复的情形，负有监管职责的行政机关未依法履职。",
             "measures": "一、依法查处违法行为；二、督促恢复植被。", "legalBasis": "《中华人民共和国行政诉讼法》第二十五条第四款"}
    value.update(overrides)
    return value


async def issue(client, world, case_id: str, user: str = "prosecutor-1", addressee: str = "B", **fields) -> dict:
    return await graphql(client, ISSUE, {"caseId": case_id, "input": draft(world, addressee, **fields)},
                         world.tokens[user])


async def serve(client, world, recommendation_id: str, served_on: str | None = None, user: str = "prosecutor-1",
                witnesses: list | None = None) -> dict:
    return await graphql(client, SERVE, {"id": recommendation_id, "input": {
        "servedOn": served_on or today(), "witnesses": witnesses or []}}, world.tokens[user])


async def read(client, world, recommendation_id: str, user: str = "prosecutor-1") -> dict:
    return await graphql(client, RECOMMENDATION, {"id": recommendation_id}, world.tokens[user])


async def served_recommendation(client, world, addressee: str = "B", **fields) -> tuple[str, str]:
    """(case id, recommendation id) of a recommendation issued and served today."""
    case_id = await administrative_case(client, world)
    recommendation_id = ok(await issue(client, world, case_id, addressee=addressee, **fields),
                           "issueRecommendation")["id"]
    ok(await serve(client, world, recommendation_id), "recordRecommendationServed")
    return case_id, recommendation_id


def plan() -> list[dict]:
    return [{"milestone": "委托第三方评估", "dueOn": today(), "percentComplete": 100},
            {"milestone": "制定修复方案", "dueOn": "2027-03-31", "percentComplete": 20},
            {"milestone": "完成生态修复", "dueOn": "2027-12-31"}]


async def upload(client, query: str, variables: dict, files_at: str, files: list[tuple[str, bytes, str]],
                 token: str) -> dict:
    """`query` with `files` sent as the multipart parts of variables.<files_at>.<i>.file."""
    if not files:
        return await graphql(client, query, {**variables, files_at: []}, token)
    variables = {**variables, files_at: [{"file": None, "description": name} for name, _, _ in files]}
    mapping = {f"variables.{files_at}.{index}.file": item for index, item in enumerate(files)}
    response = await graphql_upload(client, query, variables, mapping, token)
    assert response.status_code == 200, response.text
    return response.json()


async def reply(client, world, recommendation_id: str, user: str = "liaison-b", files=(), **fields) -> dict:
    input = {"accepted": True, "measuresTaken": "已立案查处并责令恢复。", "stages": plan(), **fields}
    return await upload(client, REPLY, {"id": recommendation_id, "input": input}, "attachments", list(files),
                        world.tokens[user])


async def report(client, world, recommendation_id: str, input: dict, user: str = "liaison-b", files=()) -> dict:
    return await upload(client, REPORT, {"id": recommendation_id, "input": input}, "attachments", list(files),
                        world.tokens[user])


async def check(client, world, recommendation_id: str, result: str = "PARTIAL", user: str = "prosecutor-1",
                files=(), **fields) -> dict:
    input = {"checkedOn": today(), "findings": "现场复绿约六成，尚有裸露坡面。", "location": SITE,
             "openItems": ["北侧坡面未复绿"] if result != "RECTIFIED" else [], **fields}
    return await upload(client, CHECK, {"id": recommendation_id, "result": result, "input": input}, "evidence",
                        list(files), world.tokens[user])


async def case_state(client, world, case_id: str, user: str = "prosecutor-1") -> dict:
    return ok(await graphql(client, CASE, {"id": case_id}, world.tokens[user]), "case")
