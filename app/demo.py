"""Demo data: one city with three districts, their procuratorates and agencies, an account per
role per district, and a few referrals modelled on the Weidong case (DOMAIN.md), of which the
mining clue is registered (and so numbered) by the district procuratorate.

The Weidong mining case runs on two tracks, as in the article: the criminal case with an
incidental civil claim against the company (filed from the natural resources bureau's clue), and
an administrative case (filed from the ecology and environment bureau's clue that the pit was
never restored) in which the procuratorate recommends that the geology and mining bureau see to
the assessment and the restoration. A recommendation belongs to an administrative case only
(行政诉讼法 art. 25(4)), so the second case carries it: served with witnesses, a staged reply
with its attachment, a progress report, and a PARTIAL then a RECTIFIED check.

Everything goes through the same services as the API, as the administrator, so demo data obeys
the rules real data does. Boundaries are simplified rectangles, not surveyed borders. Loading
twice changes nothing. Passwords here are for local development only; production never loads this."""

from __future__ import annotations

import logging
import struct
import zlib
from dataclasses import dataclass
from datetime import date, timedelta

from shapely import affinity
from shapely.geometry import LineString, Point, Polygon, box, mapping
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies import service as agencies
from agencies.models import AgencyKind, Jurisdiction, JurisdictionLevel, Procuratorate, Role, UserAccount
from agencies.principal import Principal
from agencies.uscc import check_character as uscc_check_character
from app.settings import get_settings
from cases.models import Case, CaseKind
from cases.service import CaseFiling, file_case
from clues import service as clues
from clues.models import ClueModel
from core import clock, unit_of_work
from enforcement import service as enforcement
from enforcement.models import EnforcementCase, EnforcementKind
from evidence.service import BytesSource, IncomingFile, bomb_limits
from evidence.storage import EvidenceStore
from geo.geometry import SQUARE_METERS_PER_MU, CoordinateSystem, geodesic_area_m2
from geo.reference import load_demo_layers
from parties import identity
from parties.protection import IdentityProtection, protection_for
from parties.service import PartyData, PartyKind
from recommendations import rectification
from recommendations import service as recommendations
from recommendations.models import (
    Recommendation,
    RecommendationReply,
    RectificationCheck,
    RectificationResult,
    RectificationStage,
)
from referral import service as referrals
from referral.flows import ReferralAction, ReferralStatus
from referral.models import Harm

logger = logging.getLogger(__name__)
DEMO_PASSWORD = "demo-password-2026"
CITY_CODE = "410400"
LOADER = Principal(role=Role.ADMIN, username="demo-loader")
MINING_PIT_CENTER = (113.385, 33.765)
MINING_PIT_MU = 1578
MAX_DEMO_FILE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class DemoDistrict:
    code: str
    slug: str
    name: str
    document_code: str  # the procuratorate's 机关代字
    bounds: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat
    agency_kinds: tuple[AgencyKind, ...]


AGENCY_NAMES = {
    AgencyKind.NATURAL_RESOURCES: "自然资源和地质矿产局",
    AgencyKind.ECOLOGY_ENVIRONMENT: "生态环境分局",
    AgencyKind.MARKET_REGULATION: "市场监督管理局",
    AgencyKind.FINANCE: "财政局",
    AgencyKind.HOUSING_URBAN_RURAL: "住房和城乡建设局",
    AgencyKind.AGRICULTURE_RURAL: "农业农村局",
    AgencyKind.WATER_RESOURCES: "水利局",
    AgencyKind.EMERGENCY_MANAGEMENT: "应急管理局",
}
ALL_KINDS = tuple(AGENCY_NAMES)
DISTRICTS = (
    DemoDistrict("410403", "weidong", "卫东区", "卫东检", (113.30, 33.72, 113.45, 33.82), ALL_KINDS),
    DemoDistrict("410402", "xinhua", "新华区", "新华检", (113.10, 33.72, 113.30, 33.82), ALL_KINDS),
    DemoDistrict("410411", "zhanhe", "湛河区", "湛河检", (113.15, 33.65, 113.45, 33.72),
                 (AgencyKind.NATURAL_RESOURCES, AgencyKind.ECOLOGY_ENVIRONMENT)),
)


def demo_uscc(district_code: str, index: int) -> str:
    # 1 (机构编制) 1 (机关), the division code, a made-up organisation code, the check character.
    first17 = f"11{district_code}MB0{district_code[-2:]}{index:04d}"
    return first17 + uscc_check_character(first17)


# The parties of the mining referral are made up: the company's code is 9 (工商) 1 (企业), the
# district, an organisation code no registry issued; the person's number is a well-formed one for
# the district with a birth date and sequence chosen here.
DEMO_COMPANY_USCC = "91410403MA9DEM0X1" + uscc_check_character("91410403MA9DEM0X1")
DEMO_PERSON_ID_NUMBER = "41040319780615123" + identity.check_character("41040319780615123")


def kind_slug(kind: AgencyKind) -> str:
    return kind.value.lower().replace("_", "-")


async def load_demo(session: AsyncSession, store: EvidenceStore,
                    protection: IdentityProtection | None = None) -> bool:
    """Load the demo data unless it is there already; True if the accounts were created now.

    The accounts are committed first; the referrals follow one by one under their idempotency
    keys, so a run interrupted half-way (say, by a store that was down) is completed by the next."""
    loaded = await session.scalar(select(Jurisdiction.id).where(Jurisdiction.code == CITY_CODE)) is None
    if loaded:
        await _accounts(session)
        await load_demo_layers(session, principal=LOADER)
        await unit_of_work.checkpoint(session)
    protection = protection or protection_for(get_settings().protection)
    await _referrals(session, store, protection)
    await _mining_recommendation(session, store, protection)
    await _farmland_clue_model(session, protection)
    return loaded


async def _liaison(session: AsyncSession, district_slug: str, kind: AgencyKind) -> Principal:
    user = await session.scalar(select(UserAccount).where(
        UserAccount.username == f"{district_slug}.{kind_slug(kind)}"))
    return Principal(role=Role.AGENCY_LIAISON, username=user.username, user_id=user.id, agency_id=user.agency_id)


async def _prosecutor(session: AsyncSession, district_slug: str) -> Principal:
    user = await session.scalar(select(UserAccount).where(UserAccount.username == f"{district_slug}.prosecutor"))
    jurisdiction_id = await session.scalar(
        select(Procuratorate.jurisdiction_id).where(Procuratorate.id == user.procuratorate_id))
    return Principal(role=Role.PROSECUTOR, username=user.username, user_id=user.id,
                     procuratorate_id=user.procuratorate_id, jurisdiction_id=jurisdiction_id,
                     visible_jurisdiction_ids=frozenset({jurisdiction_id}))


async def _accounts(session: AsyncSession) -> None:
    city_box = box(113.10, 33.65, 113.45, 33.82)
    await agencies.create_jurisdiction(session, principal=LOADER, data=agencies.NewJurisdiction(
        code=CITY_CODE, name="平顶山市", level=JurisdictionLevel.CITY, boundary=mapping(city_box),
        crs=CoordinateSystem.WGS84, parent_code=None, procuratorate_name="平顶山市人民检察院",
        procuratorate_code="平顶山检"))
    await _user(session, "admin", "平台管理员", Role.ADMIN)
    await _user(session, "city.prosecutor", "市院检察官", Role.PROSECUTOR,
                procuratorate_id=await _procuratorate_id(session, CITY_CODE))
    await _user(session, "city.assessor", "市依法治市办", Role.ASSESSOR, jurisdiction_code=CITY_CODE)
    for district in DISTRICTS:
        await agencies.create_jurisdiction(session, principal=LOADER, data=agencies.NewJurisdiction(
            code=district.code, name=district.name, level=JurisdictionLevel.DISTRICT,
            boundary=mapping(box(*district.bounds)), crs=CoordinateSystem.WGS84, parent_code=CITY_CODE,
            procuratorate_name=f"平顶山市{district.name}人民检察院", procuratorate_code=district.document_code))
        await _user(session, f"{district.slug}.prosecutor", f"{district.name}检察院检察官", Role.PROSECUTOR,
                    procuratorate_id=await _procuratorate_id(session, district.code))
        await _user(session, f"{district.slug}.assessor", f"{district.name}依法治区办", Role.ASSESSOR,
                    jurisdiction_code=district.code)
        for index, kind in enumerate(district.agency_kinds, start=1):
            agency = await agencies.create_agency(
                session, principal=LOADER, name=f"平顶山市{district.name}{AGENCY_NAMES[kind]}", kind=kind,
                uscc=demo_uscc(district.code, index), jurisdiction_code=district.code)
            await _user(session, f"{district.slug}.{kind_slug(kind)}",
                        f"{district.name}{AGENCY_NAMES[kind]}联络员", Role.AGENCY_LIAISON,
                        agency_id=str(agency.id))


async def _procuratorate_id(session: AsyncSession, code: str) -> str:
    jurisdiction = await agencies.get_jurisdiction_by_code(session, code)
    return str(await session.scalar(
        select(Procuratorate.id).where(Procuratorate.jurisdiction_id == jurisdiction.id)))


async def _user(session: AsyncSession, username: str, display_name: str, role: Role, **binding) -> UserAccount:
    return await agencies.create_user(session, principal=LOADER, data=agencies.NewUser(
        username=username, display_name=display_name, password=DEMO_PASSWORD, role=role, **binding))


def mining_pit(center: tuple[float, float], area_mu: float) -> Polygon:
    """An irregular pit outline around `center` scaled to `area_mu` on the ellipsoid."""
    lon, lat = center
    outline = Polygon([(lon - 0.006, lat - 0.004), (lon + 0.005, lat - 0.005), (lon + 0.007, lat + 0.001),
                       (lon + 0.002, lat + 0.006), (lon - 0.005, lat + 0.004), (lon - 0.006, lat - 0.004)])
    factor = (area_mu * SQUARE_METERS_PER_MU / geodesic_area_m2(outline)) ** 0.5
    return affinity.scale(outline, xfact=factor, yfact=factor, origin=Point(center))


def tiny_png(rgb: tuple[int, int, int]) -> bytes:
    """A valid 8×8 PNG of one colour: stands in for a site photo without shipping binaries."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * 8 for _ in range(8))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def tiny_pdf(text: str) -> bytes:
    """A minimal one-page PDF (ASCII text), standing in for a valuation report."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    body, offsets = b"%PDF-1.4\n", []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return body


def _file(name: str, content: bytes, description: str) -> IncomingFile:
    return IncomingFile(source=BytesSource(name, content), description=description)


async def _referrals(session: AsyncSession, store: EvidenceStore, protection: IdentityProtection) -> None:
    pit = mining_pit(MINING_PIT_CENTER, MINING_PIT_MU)
    mining = await referrals.submit_referral(
        session, principal=await _liaison(session, "weidong", AgencyKind.NATURAL_RESOURCES), store=store,
        max_upload_bytes=MAX_DEMO_FILE_BYTES, limits=bomb_limits(get_settings().api), protection=protection,
        data=referrals.ReferralSubmission(
            domain_code="ECOLOGY_RESOURCES", title="无证开采页岩矿造成土地和矿产资源损毁",
            facts=("专项调查中发现，某建材公司在未取得采矿许可证的情况下开采页岩 2127 万吨，"
                   "造成矿产资源损失价值 6913 万元，地表损毁 1578 亩。请检察机关依法审查。"),
            geometry=mapping(pit), address="卫东区东部山区（演示数据）", found_on=date(2023, 4, 12),
            special_investigation="非法采矿专项整治行动", idempotency_key="demo-mining-pit",
            harms=(Harm.STATE_INTERESTS, Harm.PUBLIC_INTEREST), urgent=True,
            legal_basis="《中华人民共和国矿产资源法》第三条、第三十九条",
            parties=(PartyData(kind=PartyKind.ENTERPRISE, name="示例建材有限公司（演示数据）",
                               uscc=DEMO_COMPANY_USCC, role="违法行为人"),
                     PartyData(kind=PartyKind.PERSON, name="甲某（演示数据）", id_number=DEMO_PERSON_ID_NUMBER,
                               role="法定代表人"))),
        files=[_file("site-photo.png", tiny_png((120, 96, 70)), "现场航拍照片（演示）"),
               _file("valuation-report.pdf", tiny_pdf("Resource damage valuation report (demo)"),
                     "矿产资源损失价值鉴定报告（演示）")])
    weidong_prosecutor = await _prosecutor(session, "weidong")
    if mining.status is ReferralStatus.SUBMITTED:  # registered by the first run: 卫东检公益线〔year〕1号
        mining = await referrals.change_status(session, principal=weidong_prosecutor, referral_id=str(mining.id),
                                               action=ReferralAction.REGISTER)
    if mining.status is ReferralStatus.REGISTERED:
        # As in the Weidong case: a criminal case with an incidental civil public-interest claim.
        await file_case(session, principal=weidong_prosecutor, referral_id=str(mining.id),
                        filing=CaseFiling(kind=CaseKind.CRIMINAL_INCIDENTAL_CIVIL))
    river = LineString([(113.33, 33.745), (113.36, 33.752), (113.39, 33.749), (113.42, 33.757)])
    await referrals.submit_referral(
        session, principal=await _liaison(session, "weidong", AgencyKind.ECOLOGY_ENVIRONMENT), store=store,
        max_upload_bytes=MAX_DEMO_FILE_BYTES, limits=bomb_limits(get_settings().api), protection=protection,
        data=referrals.ReferralSubmission(
            domain_code="ECOLOGY_RESOURCES", title="河道沿线企业超标排放污水",
            facts="水质监测显示该河段化学需氧量连续三个月超标，沿线两家企业排污口未经审批。",
            geometry=mapping(river), address="卫东区某河段（演示数据）", found_on=date(2026, 9, 3),
            special_investigation="入河排污口排查整治", idempotency_key="demo-river"),
        files=[_file("water-sample.png", tiny_png((60, 90, 110)), "取样点照片（演示）")])
    await referrals.submit_referral(
        session, principal=await _liaison(session, "xinhua", AgencyKind.MARKET_REGULATION), store=store,
        max_upload_bytes=MAX_DEMO_FILE_BYTES, limits=bomb_limits(get_settings().api), protection=protection,
        data=referrals.ReferralSubmission(
            domain_code="FOOD_DRUG_SAFETY", title="校园周边食品店销售过期食品",
            facts="检查发现某小学周边食品店销售过期散装食品，涉及未成年人食品安全。",
            geometry=mapping(Point(113.2, 33.77)), address="新华区某小学附近（演示数据）",
            found_on=date(2026, 10, 20), special_investigation="校园食品安全专项检查",
            idempotency_key="demo-food"),
        files=[])


async def _mining_recommendation(session: AsyncSession, store: EvidenceStore, protection: IdentityProtection) -> None:
    """The administrative track of the Weidong mining case, step by step; each step runs only if
    the last run did not get to it, so an interrupted load is completed by the next."""
    pit = mining_pit(MINING_PIT_CENTER, MINING_PIT_MU)
    prosecutor = await _prosecutor(session, "weidong")
    bureau = await _liaison(session, "weidong", AgencyKind.NATURAL_RESOURCES)
    clue = await referrals.submit_referral(
        session, principal=await _liaison(session, "weidong", AgencyKind.ECOLOGY_ENVIRONMENT), store=store,
        max_upload_bytes=MAX_DEMO_FILE_BYTES, limits=bomb_limits(get_settings().api), protection=protection,
        data=referrals.ReferralSubmission(
            domain_code="ECOLOGY_RESOURCES", title="无证采矿区矿山地质环境未治理、损毁土地未复垦",
            facts=("生态环境执法检查发现，原无证开采页岩的矿区停采后未开展矿山地质环境治理和土地复垦，"
                   "1578 亩地表裸露，边坡存在崩塌隐患，扬尘和水土流失持续。负有监管职责的部门尚未督促治理。"),
            geometry=mapping(pit), address="卫东区东部山区（演示数据）", found_on=date(2023, 6, 8),
            special_investigation="矿山生态环境问题排查", idempotency_key="demo-mining-restoration",
            harms=(Harm.STATE_INTERESTS, Harm.PUBLIC_INTEREST), urgent=True,
            legal_basis="《土地复垦条例》第十七条、《矿山地质环境保护规定》第三条"),
        files=[_file("pit-slope.png", tiny_png((150, 120, 90)), "矿区裸露边坡照片（演示）")])
    if clue.status is ReferralStatus.SUBMITTED:
        clue = await referrals.change_status(session, principal=prosecutor, referral_id=str(clue.id),
                                             action=ReferralAction.REGISTER)
    if clue.status is ReferralStatus.REGISTERED:
        await file_case(session, principal=prosecutor, referral_id=str(clue.id),
                        filing=CaseFiling(kind=CaseKind.ADMINISTRATIVE))
    case = await session.scalar(select(Case).where(Case.referral_id == clue.id))

    recommendation = await session.scalar(select(Recommendation).where(Recommendation.case_id == case.id))
    if recommendation is None:
        recommendation = await recommendations.issue_recommendation(
            session, principal=prosecutor, case_id=str(case.id), draft=recommendations.RecommendationDraft(
                addressee_agency_id=str(bureau.agency_id), urgent=False,
                content=("经审查，辖区内原无证采矿区停采后未进行矿山地质环境治理和土地复垦，损毁土地 1578 亩，"
                         "国家利益和社会公共利益持续受损。你局作为矿产资源和地质环境监督管理部门，未依法履行监管职责。"),
                measures=("一、委托具有资质的机构对生态环境损害进行评估；二、督促责任人编制并实施矿山地质环境治理"
                          "和土地复垦方案；三、对修复情况进行验收，并书面回复本院。"),
                legal_basis="《中华人民共和国行政诉讼法》第二十五条第四款、《土地复垦条例》第十七条"))
    if recommendation.served_on is None:
        recommendation = await recommendations.record_served(
            session, principal=prosecutor, recommendation_id=str(recommendation.id), served_on=clock.today(),
            witnesses=(recommendations.Witness(name="区人大代表（演示）", role="人大代表"),
                       recommendations.Witness(name="人民监督员（演示）", role="人民监督员")))
    if await session.scalar(select(RecommendationReply.id).where(
            RecommendationReply.recommendation_id == recommendation.id)) is None:
        today = clock.today()
        await rectification.reply_to_recommendation(
            session, principal=bureau, store=store, recommendation_id=str(recommendation.id),
            max_upload_bytes=MAX_DEMO_FILE_BYTES, limits=bomb_limits(get_settings().api),
            draft=rectification.ReplyDraft(
                accepted=True, measures_taken="已委托第三方机构开展损害评估，责令责任人编制治理和复垦方案并组织实施。",
                stages=(rectification.StagePlan("委托第三方评估", today, 100),
                        rectification.StagePlan("编制并批复修复方案", today, 100),
                        rectification.StagePlan("完成生态修复", today + timedelta(days=180), 60))),
            files=[_file("assessment-contract.pdf", tiny_pdf("Assessment contract (demo)"), "评估委托合同（演示）")])
    stages = (await session.scalars(select(RectificationStage).where(
        RectificationStage.recommendation_id == recommendation.id).order_by(RectificationStage.position))).all()
    checks = (await session.scalars(select(RectificationCheck).where(
        RectificationCheck.recommendation_id == recommendation.id).order_by(RectificationCheck.recorded_at))).all()
    site = mapping(Point(*MINING_PIT_CENTER))
    if not checks:
        await rectification.record_check(
            session, principal=prosecutor, store=store, recommendation_id=str(recommendation.id),
            max_upload_bytes=MAX_DEMO_FILE_BYTES, limits=bomb_limits(get_settings().api),
            record=rectification.CheckRecord(
                result=RectificationResult.PARTIAL, checked_on=clock.today(), location=site,
                findings="现场查看：边坡已削坡减载，复垦区已覆土，东侧边坡复绿未完成。",
                open_items=("东侧边坡复绿",)),
            files=[_file("check-east-slope.png", tiny_png((110, 100, 80)), "东侧边坡现场照片（演示）")])
    if stages[-1].percent_complete < 100:
        await rectification.report_progress(
            session, principal=bureau, store=store, recommendation_id=str(recommendation.id),
            max_upload_bytes=MAX_DEMO_FILE_BYTES, limits=bomb_limits(get_settings().api),
            report=rectification.ProgressReport(note="东侧边坡复绿完成，修复工程通过验收。", updates=(
                rectification.StageUpdate(stage_id=str(stages[-1].id), percent_complete=100),)),
            files=[_file("east-slope-green.png", tiny_png((70, 140, 60)), "东侧边坡复绿后照片（演示）")])
    if len(checks) < 2:
        first = checks[0] if checks else await session.scalar(select(RectificationCheck).where(
            RectificationCheck.recommendation_id == recommendation.id))
        await rectification.record_check(
            session, principal=prosecutor, store=store, recommendation_id=str(recommendation.id),
            max_upload_bytes=MAX_DEMO_FILE_BYTES, limits=bomb_limits(get_settings().api),
            record=rectification.CheckRecord(
                result=RectificationResult.RECTIFIED, checked_on=clock.today(), location=site,
                findings="复查：东侧边坡植被覆盖达标，整改到位。", follow_up_of=str(first.id)),
            files=[_file("check-rectified.png", tiny_png((60, 150, 70)), "复查现场照片（演示）")])


# The screening the issue names: penalties for illegally occupying permanent farmland where no
# restoration followed (no case came of the record, nothing rectified), decided over 90 days ago.
FARMLAND_CLUE_MODEL = {"all": [
    {"field": "enforcement.kind", "op": "eq", "value": "PENALTY"},
    {"field": "enforcement.domain", "op": "in", "value": ["ECOLOGY_RESOURCES"]},
    {"field": "enforcement.amount", "op": "gte", "value": 10000},
    {"field": "enforcement.decided_on", "op": "older_than_days", "value": 90},
    {"overlapsLayer": "PERMANENT_FARMLAND"},
    {"not": {"exists": "case"}},
    {"not": {"exists": "rectified"}},
]}


async def _farmland_clue_model(session: AsyncSession, protection: IdentityProtection) -> None:
    """Two penalties of the Weidong natural-resources bureau (one on the district's farmland), the
    Weidong procuratorate's farmland clue model, and its first run (which hits the one on the
    farmland); each step skipped when a previous load made it."""
    bureau = await _liaison(session, "weidong", AgencyKind.NATURAL_RESOURCES)
    for number, amount, place, summary in (
            ("卫自然资罚〔2026〕7号", "86000", Point(113.32, 33.80), "非法占用永久基本农田 12 亩建设厂房，责令退还土地、恢复原状并处罚款。"),
            ("卫自然资罚〔2026〕9号", "3000", Point(113.45, 33.76), "未经批准临时占用集体土地堆放建材，责令限期改正并处罚款。")):
        known = await session.scalar(select(EnforcementCase.id).where(EnforcementCase.agency_id == bureau.agency_id,
                                                                      EnforcementCase.case_number == number))
        if known is None:
            await enforcement.record_enforcement_case(session, principal=bureau, protection=protection, entry=(
                enforcement.EnforcementEntry(
                    case_number=number, kind=EnforcementKind.PENALTY, domain_code="ECOLOGY_RESOURCES",
                    decided_on=date(2026, 3, 10), amount=amount, summary=summary, location=mapping(place),
                    parties=(PartyData(kind=PartyKind.ENTERPRISE, name="示例建材有限公司（演示数据）",
                                       uscc=DEMO_COMPANY_USCC, role="违法行为人"),))))
    prosecutor = await _prosecutor(session, "weidong")
    name = "占用耕地处罚后未恢复"
    if await session.scalar(select(ClueModel.id).where(ClueModel.name == name)) is None:
        model = await clues.create_model(session, principal=prosecutor, draft=clues.ModelDraft(
            name=name, conditions=FARMLAND_CLUE_MODEL,
            description="非法占用永久基本农田受到行政处罚、处罚九十日后仍未立案也未整改到位的案件。"))
        await clues.run_model(session, principal=prosecutor, model_id=str(model.id))
