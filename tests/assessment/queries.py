"""The assessment's operations as the tests send them."""

from __future__ import annotations

from tests.conftest import graphql

INDICATOR = "code kind value score weight count summary"
RECORD = "reference related startedOn dueOn doneOn onTime workingDaysLate note"
ASSESSMENT = """query($year: Int!, $quarter: Int, $code: String) {
  assessment(year: $year, quarter: $quarter, jurisdictionCode: $code) {
    year quarter startOn endOn asOf
    agencies { agencyId agency { name } score rank frozen rubricVersion indicators { """ + INDICATOR + """ } } } }"""
ASSESSMENT_EXPLAINED = """query($year: Int!, $quarter: Int) { assessment(year: $year, quarter: $quarter) {
  agencies { agencyId score indicators { code explanation { """ + RECORD + """ } } } } }"""
EXPLANATION = """query($agencyId: ID!, $year: Int!, $quarter: Int, $code: AssessmentIndicatorCode!) {
  assessmentExplanation(agencyId: $agencyId, year: $year, quarter: $quarter, code: $code) { """ + RECORD + " } }"
PERIOD = "id year quarter status closedOn objectionsDueOn jurisdiction { code } history { action fromStatus toStatus actorName reason }"
CLOSE = """mutation($year: Int!, $quarter: Int, $code: String) {
  closeAssessmentPeriod(year: $year, quarter: $quarter, jurisdictionCode: $code) { """ + PERIOD + " } }"
REOPEN = """mutation($year: Int!, $quarter: Int, $code: String!, $reason: String!) {
  reopenAssessmentPeriod(year: $year, quarter: $quarter, jurisdictionCode: $code, reason: $reason) { """ + PERIOD + " } }"
PERIODS = "query($year: Int!, $quarter: Int) { assessmentPeriods(year: $year, quarter: $quarter) { " + PERIOD + " } }"
OBJECTION = "id agencyId indicatorCode status grounds filedOn filedByName answer answeredOn answeredByName"
OBJECT = """mutation($year: Int!, $quarter: Int, $code: String!, $grounds: String!) {
  fileAssessmentObjection(year: $year, quarter: $quarter, indicatorCode: $code, grounds: $grounds) { """ + OBJECTION + " } }"
ANSWER = """mutation($id: ID!, $answer: String!) { answerAssessmentObjection(objectionId: $id, answer: $answer) {
  """ + OBJECTION + " } }"
OBJECTIONS = "query($year: Int!, $quarter: Int) { assessmentObjections(year: $year, quarter: $quarter) { " + OBJECTION + " } }"
BOARD = """query($code: String!, $from: Date!, $to: Date!) { assessmentBoard(jurisdictionCode: $code, from: $from, to: $to) {
  weekStart isoYear isoWeek referralsReceived referralsFiled filingRate recommendationsIssued repliesDue repliesOnTime
  onTimeReplyRate rectified rectificationRate } }"""
RUBRICS = """{ assessmentRubrics { version floor objectionWindowWorkingDays referralTargetPerQuarter source createdByName
  indicators { code points } deductions { code points } referralTargets { uscc target } } }"""
CREATE_RUBRIC = """mutation($input: CreateAssessmentRubricInput!) { createAssessmentRubricVersion(input: $input) {
  version source referralTargetPerQuarter indicators { code points } referralTargets { uscc target } } }"""


async def as_user(client, world, user: str, query: str, **variables) -> dict:
    return await graphql(client, query, variables, world.tokens[user])
