"""Mapbox Vector Tiles of referrals, evidence, jurisdictions and reference layers, scoped like GraphQL.

One builder makes every tile: the layer names its features (properties, a geometry in tile
coordinates from ST_AsMVTGeom, a rank saying which matter most) behind a `&&` prefilter on the tile
envelope; the builder keeps the first FEATURE_CAP by rank and encodes them with ST_AsMVT. Every value
is a bound parameter.

Geometries are stored in EPSG:4326 and tiles are cut in EPSG:3857: the prefilter transforms the
envelope (one rectangle, exactly, since Mercator keeps meridians and parallels straight) rather than
every row's geometry, so the GiST index on the column answers it.

Each layer's statement is built and compiled once per caller scope and zoom (CompiledStatement)
and run with the tile bound. Encoded tiles are cached per process (TileCache) under the layer, the
caller's scope and the tile, with the snapshot they were drawn in. The tables they are drawn from log where they change (tile_change, by triggers in
the changing transaction: migration 0025); a cached tile is served while no change its snapshot
could not see lies over it, so a submission redraws the tiles around it and no other."""

from __future__ import annotations

import enum
import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from geoalchemy2 import Geography
from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    Numeric,
    String,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select
from sqlalchemy.types import UserDefinedType

from agencies.models import Jurisdiction
from agencies.principal import Principal
from agencies.scoping import visible_to
from core import unit_of_work
from core.db import make_engine, make_session_factory
from core.errors import NotFound, ValidationFailed
from evidence.models import Evidence
from geo.geometry import SQUARE_METERS_PER_MU
from geo.models import ReferenceFeature, ReferenceLayer, ReferralGridCount, TileChange
from referral.models import Referral

MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
EXTENT = 4096  # tile coordinates per side, the MVT default
BUFFER = 64  # tile coordinates kept beyond each edge, so lines and symbols join across tiles
MAX_ZOOM = 22
# Enough for any real tile at the zooms referrals are drawn one by one (tens per z12 tile); a
# tile past it is marked so the client can say "zoom in for all".
FEATURE_CAP = 2000
# At this zoom and below referrals are counted per grid cell instead of drawn one by one: a z9
# tile spans some 78 km, a whole district's clues.
AGGREGATE_MAX_ZOOM = 9
CELL_LEVELS_BELOW_TILE = 5
CELLS_PER_TILE_SIDE = 1 << CELL_LEVELS_BELOW_TILE  # 128 tile coordinates (8 screen pixels of 256) per cell
WEB_MERCATOR_WORLD = 40075016.685578488  # the side of the EPSG:3857 square, in metres
WORLD_BOUNDS = (-180.0, -85.0511287798066, 180.0, 85.0511287798066)


@dataclass(frozen=True)
class TileAddress:
    z: int
    x: int
    y: int

    @property
    def side_meters(self) -> float:
        return WEB_MERCATOR_WORLD / (1 << self.z)


_TILE_NUMBER = re.compile(r"[0-9]{1,8}")


def tile_address(z: str, x: str, y: str) -> TileAddress:
    """The tile named by a URL's z/x/y, or VALIDATION saying which part is wrong."""
    numbers = {}
    for name, value in (("z", z), ("x", x), ("y", y)):
        if not _TILE_NUMBER.fullmatch(value):
            raise ValidationFailed(f"{name} 应为非负整数 / {name} must be a non-negative integer", field=name)
        numbers[name] = int(value)
    if numbers["z"] > MAX_ZOOM:
        raise ValidationFailed(f"缩放级别应在 0 到 {MAX_ZOOM} 之间 / z must be between 0 and {MAX_ZOOM}",
                               field="z")
    tiles_per_side = 1 << numbers["z"]
    for name in ("x", "y"):
        if numbers[name] >= tiles_per_side:
            raise ValidationFailed(f"{name} 超出该缩放级别的范围 / {name} must be below {tiles_per_side} at "
                                   f"zoom {numbers['z']}", field=name)
    return TileAddress(**numbers)


class Envelope:
    """The tile's square in EPSG:3857 (what ST_AsMVTGeom cuts to) and, widened by the buffer, in
    EPSG:4326 (what the `&&` prefilter compares the stored geometries with)."""

    def __init__(self, tile: TileAddress):
        self.tile = tile
        # Named, so a statement's text is the same for every tile of a zoom class and a baseline
        # can bind its own tile (bench/raw_tiles.py).
        self.z = bindparam("tile_z", tile.z, Integer)
        self.x = bindparam("tile_x", tile.x, Integer)
        self.y = bindparam("tile_y", tile.y, Integer)
        self.mercator = func.ST_TileEnvelope(self.z, self.x, self.y)
        margin = bindparam("tile_margin", tile.side_meters * BUFFER / EXTENT, Float)
        self.prefilter = func.ST_Transform(func.ST_Expand(self.mercator, margin), 4326)

    def overlaps(self, column):
        return column.op("&&")(self.prefilter)

    def clip(self, geometry_4326):
        return self.clip_mercator(func.ST_Transform(geometry_4326, 3857))

    def clip_mercator(self, geometry_3857):
        return func.ST_AsMVTGeom(geometry_3857, self.mercator, EXTENT, BUFFER, True)


@dataclass(frozen=True)
class Field:
    name: str
    description: str


@dataclass(frozen=True)
class VectorLayer:
    """A layer inside the tiles (MVT's `source-layer`), at the zooms it appears."""

    name: str
    fields: tuple[Field, ...]
    minzoom: int = 0
    maxzoom: int = MAX_ZOOM


@dataclass(frozen=True)
class TileLayer:
    """A layer of the URL space: what a principal's tile of it holds at a given zoom."""

    name: str
    description: str
    vector_layers: tuple[VectorLayer, ...]
    sources: tuple[str, ...]  # the tables its tiles are drawn from (TileChange.source)
    # (principal, envelope) → (the vector layer drawn at that zoom, its features): a select whose
    # columns are the properties, `geom` in tile coordinates and `rank` (1 = most important).
    features: Callable[[Principal, Envelope], tuple[VectorLayer, Select]] = field(repr=False)


# --- the layers -------------------------------------------------------------------------------

REFERRAL_FIELDS = (
    Field("id", "referral id"),
    Field("status", "ReferralStatus"),
    Field("domain", "referral domain code"),
    Field("area_mu", "area in mu on the ellipsoid, 0 for points and lines"),
)
REFERRALS = VectorLayer("referrals", REFERRAL_FIELDS, minzoom=AGGREGATE_MAX_ZOOM + 1)
REFERRAL_CELLS = VectorLayer("referral_cells", (Field("count", "referrals in the cell"),),
                             maxzoom=AGGREGATE_MAX_ZOOM)
EVIDENCE = VectorLayer("evidence", (
    Field("id", "evidence id"),
    Field("referral_id", "the referral the evidence belongs to"),
    Field("kind", "what the evidence is of (EvidenceOwnerKind)"),
))
JURISDICTIONS = VectorLayer("jurisdictions", (
    Field("code", "GB/T 2260 division code"),
    Field("name", "name"),
    Field("level", "PROVINCE, CITY or DISTRICT"),
))
PROTECTED_AREAS = VectorLayer("protected_areas", (
    Field("id", "feature id"),
    Field("name", "feature name"),
    Field("layer", "reference layer code"),
    Field("kind", "ReferenceLayerKind"),
))


def _referral_scope(principal: Principal):
    return visible_to(principal, agency_column=Referral.agency_id, jurisdiction_column=Referral.jurisdiction_id)


def _referral_features(principal: Principal, envelope: Envelope) -> tuple[VectorLayer, Select]:
    if envelope.tile.z <= AGGREGATE_MAX_ZOOM:
        return REFERRAL_CELLS, _referral_cells(principal, envelope)
    area_mu = func.round(cast(func.ST_Area(cast(Referral.geometry, Geography)) / SQUARE_METERS_PER_MU,
                              Numeric), 2)
    return REFERRALS, select(
        cast(Referral.id, String).label("id"),
        cast(Referral.status, String).label("status"),
        Referral.domain_code.label("domain"),
        cast(area_mu, Float).label("area_mu"),
        envelope.clip(Referral.geometry).label("geom"),
        func.row_number().over(order_by=(Referral.submitted_at.desc(), Referral.id.desc())).label("rank"),
    ).where(envelope.overlaps(Referral.geometry), _referral_scope(principal))


def _referral_cells(principal: Principal, envelope: Envelope) -> Select:
    """Referrals counted per grid cell of the tile, each at one point of itself (on its surface, so
    a referral spanning tiles is counted in exactly one), the cell drawn at its referrals' centroid:
    read from the counts kept per cell of the grid one level finer than the tile's by five
    (ReferralGridCount), so a tile over a province costs a few thousand rows, not a million."""
    first_x, first_y = envelope.x * CELLS_PER_TILE_SIDE, envelope.y * CELLS_PER_TILE_SIDE
    last = CELLS_PER_TILE_SIDE - 1
    count = func.sum(ReferralGridCount.referrals)
    centroid = func.ST_SetSRID(func.ST_MakePoint(func.sum(ReferralGridCount.sum_x) / count,
                                                 func.sum(ReferralGridCount.sum_y) / count), 3857)
    return (select(cast(count, Integer).label("count"), envelope.clip_mercator(centroid).label("geom"),
                   func.row_number().over(order_by=(count.desc(), ReferralGridCount.cell_x,
                                                    ReferralGridCount.cell_y)).label("rank"))
            .where(ReferralGridCount.level == envelope.z + CELL_LEVELS_BELOW_TILE,
                   ReferralGridCount.cell_x.between(first_x, first_x + last),
                   ReferralGridCount.cell_y.between(first_y, first_y + last),
                   visible_to(principal, agency_column=ReferralGridCount.agency_id,
                              jurisdiction_column=ReferralGridCount.jurisdiction_id))
            .group_by(ReferralGridCount.cell_x, ReferralGridCount.cell_y)
            .having(count > 0))


def _evidence_features(principal: Principal, envelope: Envelope) -> tuple[VectorLayer, Select]:
    """Evidence is drawn at its own position (a photo's EXIF point, else the declared one) and,
    without one, at a point of the referral it belongs to; scoped by its own columns, never the
    referral's."""
    place = func.coalesce(Evidence.position, func.ST_PointOnSurface(Referral.geometry))
    # Each branch compares a bare indexed column with the envelope (idx_evidence_position,
    # idx_referral_geometry), so either can be answered from its index.
    return EVIDENCE, (
        select(cast(Evidence.id, String).label("id"),
               cast(Evidence.referral_id, String).label("referral_id"),
               cast(Evidence.owner_kind, String).label("kind"),
               envelope.clip(place).label("geom"),
               func.row_number().over(order_by=(Evidence.uploaded_at.desc(), Evidence.id.desc())).label("rank"))
        .join(Referral, Referral.id == Evidence.referral_id)
        .where(or_(envelope.overlaps(Evidence.position),
                   and_(Evidence.position.is_(None), envelope.overlaps(Referral.geometry))),
               visible_to(principal, agency_column=Evidence.agency_id, jurisdiction_column=Evidence.jurisdiction_id)))


def _jurisdiction_features(principal: Principal, envelope: Envelope) -> tuple[VectorLayer, Select]:
    # The administrative map is public knowledge to every signed-in user (as `jurisdictions` is).
    return JURISDICTIONS, select(
        Jurisdiction.code.label("code"), Jurisdiction.name.label("name"),
        cast(Jurisdiction.level, String).label("level"),
        envelope.clip(Jurisdiction.boundary).label("geom"),
        func.row_number().over(order_by=Jurisdiction.code).label("rank"),
    ).where(envelope.overlaps(Jurisdiction.boundary))


def _protected_area_features(principal: Principal, envelope: Envelope) -> tuple[VectorLayer, Select]:
    # Maps of law, public to every signed-in role.
    return PROTECTED_AREAS, (
        select(cast(ReferenceFeature.id, String).label("id"), ReferenceFeature.name.label("name"),
               ReferenceLayer.code.label("layer"), cast(ReferenceLayer.kind, String).label("kind"),
               envelope.clip(ReferenceFeature.geometry).label("geom"),
               func.row_number().over(order_by=(ReferenceLayer.code, ReferenceFeature.id)).label("rank"))
        .join(ReferenceLayer, ReferenceLayer.id == ReferenceFeature.layer_id)
        .where(envelope.overlaps(ReferenceFeature.geometry)))


class LayerName(str, enum.Enum):
    REFERRALS = "referrals"
    EVIDENCE = "evidence"
    JURISDICTIONS = "jurisdictions"
    PROTECTED_AREAS = "protected_areas"


LAYERS = {
    LayerName.REFERRALS: TileLayer("referrals", "Referrals one by one, counted per grid cell at zoom "
                                   f"{AGGREGATE_MAX_ZOOM} and below", (REFERRAL_CELLS, REFERRALS),
                                   ("referral",), _referral_features),
    LayerName.EVIDENCE: TileLayer("evidence", "Evidence files, at their referral", (EVIDENCE,),
                                  ("evidence", "referral"), _evidence_features),
    LayerName.JURISDICTIONS: TileLayer("jurisdictions", "Administrative divisions", (JURISDICTIONS,),
                                       ("jurisdiction",), _jurisdiction_features),
    LayerName.PROTECTED_AREAS: TileLayer("protected_areas", "Reference layers: ecological red lines, "
                                         "permanent farmland, water sources, reserves, mining rights",
                                         (PROTECTED_AREAS,), ("reference_layer", "reference_feature"),
                                         _protected_area_features),
}


def tile_layer(name: str) -> TileLayer:
    try:
        return LAYERS[LayerName(name)]
    except ValueError as error:
        raise NotFound(f"没有图层 {name!r} / no tile layer {name!r}; layers are "
                       f"{', '.join(layer.value for layer in LayerName)}", field="layer") from error


# --- the builder ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tile:
    content: bytes
    capped: bool  # more features matched than FEATURE_CAP; the tile holds the first by rank

    @cached_property  # a cached tile is hashed once
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.content).hexdigest()[:32] + '"'


def tile_statement(layer: TileLayer, principal: Principal, envelope: Envelope, *, cap: int) -> Select:
    vector_layer, features = layer.features(principal, envelope)
    candidates = features.subquery("candidates")
    properties = [candidates.c[item.name] for item in vector_layer.fields]
    # ST_AsMVTGeom answers NULL for what the prefilter let through but nothing of which is left in
    # the tile: those are dropped before the cap counts.
    kept = (select(*properties, candidates.c.geom,
                   func.row_number().over(order_by=candidates.c.rank).label("position"))
            .where(candidates.c.geom.is_not(None))
            .order_by(candidates.c.rank)
            .limit(cap + 1)
            .cte("kept"))
    rows = select(*[kept.c[item.name] for item in vector_layer.fields], kept.c.geom).where(
        kept.c.position <= cap).subquery("mvt")
    content = select(func.ST_AsMVT(literal_column("mvt"), literal(vector_layer.name), EXTENT, "geom")
                     ).select_from(rows).scalar_subquery()
    capped = select(func.count() > cap).select_from(kept).scalar_subquery()
    # The snapshot the tile is drawn in (one statement, one snapshot), and whether this transaction
    # has written anything: a tile showing its own uncommitted rows is never cached.
    return select(content.label("content"), capped.label("capped"),
                  cast(func.pg_current_snapshot(), String).label("snapshot"),
                  func.pg_current_xact_id_if_assigned().is_(None).label("read_only"))


def changed_since_statement() -> Select:
    """Whether a change to the tables `sources` that `snapshot` could not see (committed since, or
    in progress then) lies over the tile. Transactions older than the snapshot's xmin were all
    finished when it was taken, so the index on xid skips them."""
    drawn_in = cast(bindparam("snapshot", type_=String), _PostgresType("pg_snapshot"))
    envelope = Envelope(TileAddress(0, 0, 0))  # its tile is bound at each execution
    return select(exists().where(
        TileChange.xid >= cast(cast(func.pg_snapshot_xmin(drawn_in), String), BigInteger),
        ~func.pg_visible_in_snapshot(cast(cast(TileChange.xid, String), _PostgresType("xid8")), drawn_in),
        TileChange.source == func.any(bindparam("sources", type_=ARRAY(String))),
        or_(TileChange.bbox.is_(None), envelope.overlaps(TileChange.bbox))))


class _PostgresType(UserDefinedType):
    """A PostgreSQL type SQLAlchemy does not name (pg_snapshot, xid8), for casts."""

    cache_ok = True

    def __init__(self, name: str):
        self.name = name

    def get_col_spec(self, **kw) -> str:
        return self.name


@dataclass(frozen=True)
class CachedTile:
    tile: Tile
    snapshot: str  # pg_snapshot as text, the one the tile was drawn in


class TileCache:
    """Encoded tiles of this process, least recently used out first, each keyed by all its statement
    depends on (layer, the caller's scope as visible_to reads it, tile, cap) and stored with the
    snapshot it was drawn in: a cached tile is served only to a caller whose statement is the very
    same, and only while no change over it is missing from that snapshot, so it can neither leak
    across scopes nor miss a change committed by any process."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, CachedTile] = OrderedDict()
        self._bytes = 0

    def get(self, key: tuple) -> CachedTile | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: tuple, entry: CachedTile) -> None:
        if len(entry.tile.content) > self.max_bytes:
            return
        self.discard(key)
        self._entries[key] = entry
        self._bytes += len(entry.tile.content)
        while self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= len(evicted.tile.content)

    def discard(self, key: tuple) -> None:
        previous = self._entries.pop(key, None)
        if previous is not None:
            self._bytes -= len(previous.tile.content)

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0


def scope_key(principal: Principal) -> tuple:
    """What agencies.scoping.visible_to reads of a principal (the only use layers make of it):
    principals alike in it are shown the same rows, so they may share statements and tiles."""
    return principal.role.value, principal.agency_id, tuple(sorted(principal.visible_jurisdiction_ids))


@dataclass(frozen=True)
class CompiledStatement:
    """A statement compiled once into the driver's SQL (`$n` placeholders), run with the values of
    the parameters named at each execution and the compiled-in values of the others: a tile costs
    no statement building or compiling, and asyncpg prepares each text once per connection."""

    sql: str
    names: tuple[str, ...]
    fixed: dict

    @classmethod
    def of(cls, statement: Select) -> CompiledStatement:
        compiled = statement.compile(dialect=asyncpg_dialect.dialect(), compile_kwargs={"render_postcompile": True})
        return cls(compiled.string, tuple(compiled.positiontup), dict(compiled.params))

    async def execute(self, session: AsyncSession, **values):
        arguments = {**self.fixed, **values}
        connection = await session.connection()
        return (await connection.exec_driver_sql(self.sql, tuple(arguments[name] for name in self.names))).one()


def tile_values(tile: TileAddress) -> dict:
    return {"tile_z": tile.z, "tile_x": tile.x, "tile_y": tile.y, "tile_margin": tile.side_meters * BUFFER / EXTENT}


_CHANGED_SINCE = CompiledStatement.of(changed_since_statement())
STATEMENTS_KEPT = 1024
# (layer, scope, zoom, cap) → its tile statement: a statement depends on the tile only through the
# parameters tile_values names (tests/geo/test_tiles.py checks it), so it serves every tile of a zoom.
_statements: OrderedDict[tuple, CompiledStatement] = OrderedDict()


def compiled_tile_statement(layer: TileLayer, principal: Principal, z: int, cap: int) -> CompiledStatement:
    key = (layer.name, scope_key(principal), z, cap)
    found = _statements.get(key)
    if found is None:
        found = _statements[key] = CompiledStatement.of(
            tile_statement(layer, principal, Envelope(TileAddress(z, 0, 0)), cap=cap))
        if len(_statements) > STATEMENTS_KEPT:
            _statements.popitem(last=False)
    else:
        _statements.move_to_end(key)
    return found


async def render_tile(session: AsyncSession, *, principal: Principal, layer_name: str, z: str, x: str,
                      y: str, cache: TileCache | None = None) -> Tile:
    layer = tile_layer(layer_name)
    tile = tile_address(z, x, y)
    # Keyed by all the tile statement depends on: the layer, the caller's scope, the tile, the cap.
    key = (layer.name, scope_key(principal), tile.z, tile.x, tile.y, FEATURE_CAP)
    if cache is not None:
        cached = cache.get(key)
        if cached is not None:
            changed = await _CHANGED_SINCE.execute(session, snapshot=cached.snapshot, sources=list(layer.sources),
                                                   **tile_values(tile))
            if not changed[0]:
                return cached.tile
            cache.discard(key)
    row = await compiled_tile_statement(layer, principal, tile.z, FEATURE_CAP).execute(session, **tile_values(tile))
    drawn = Tile(content=bytes(row.content or b""), capped=bool(row.capped))
    if cache is not None and row.read_only:
        cache.put(key, CachedTile(drawn, row.snapshot))
    return drawn


async def compact_tile_changes(session: AsyncSession) -> int:
    """Empty the change log of what every transaction now running can see, leaving one "changed
    anywhere" row per source in its place: tiles cached before this redraw once, those drawn
    after it need none of the removed rows. How many rows were removed."""
    removed = await session.execute(delete(TileChange))
    await session.execute(insert(TileChange), [{"source": source, "bbox": None} for source in sorted(
        {source for layer in LAYERS.values() for source in layer.sources})])
    return removed.rowcount


async def compact_referral_grid(session: AsyncSession) -> tuple[int, int]:
    """Fold the grid's rows into one per cell and owner (dropping cells counted down to none); the
    counts any snapshot reads are the same before and after. (rows before, rows after)."""
    grid = ReferralGridCount
    removed = delete(grid).returning(grid.level, grid.cell_x, grid.cell_y, grid.agency_id, grid.jurisdiction_id,
                                     grid.referrals, grid.sum_x, grid.sum_y).cte("removed")
    keys = [removed.c.level, removed.c.cell_x, removed.c.cell_y, removed.c.agency_id, removed.c.jurisdiction_id]
    folded = (select(*keys, func.sum(removed.c.referrals), func.sum(removed.c.sum_x), func.sum(removed.c.sum_y))
              .group_by(*keys).having(func.sum(removed.c.referrals) != 0))
    before = await session.scalar(select(func.count()).select_from(grid))
    await session.execute(insert(grid).from_select(
        ["level", "cell_x", "cell_y", "agency_id", "jurisdiction_id", "referrals", "sum_x", "sum_y"], folded))
    return before, await session.scalar(select(func.count()).select_from(grid))


@dataclass(frozen=True)
class Compaction:
    change_rows_removed: int
    grid_rows_before: int
    grid_rows_after: int


async def compact_tile_data(db) -> Compaction:
    """Both compactions in one transaction on an engine of their own, for the operator command and
    the worker's nightly task: one statement over every row of the grid takes longer than a request
    may (`db`: the app's DatabaseSettings, whose timeouts are lifted here)."""
    engine = make_engine(db.model_copy(update={"command_timeout_seconds": 3600.0, "statement_timeout_ms": 3_600_000}))
    try:
        async with make_session_factory(engine)() as session:
            changes = await compact_tile_changes(session)
            before, after = await compact_referral_grid(session)
            await unit_of_work.commit(session)
    finally:
        await engine.dispose()
    return Compaction(changes, before, after)


async def tilejson(session: AsyncSession, *, principal: Principal, layer_name: str, base_url: str) -> dict:
    """A TileJSON 3.0.0 document for one layer. Its bounds are the area the platform serves (the
    jurisdictions' extent, or the reference features'), the same for every caller: extents of
    scoped data would say where data lies that the caller may not see."""
    layer = tile_layer(layer_name)
    source = ReferenceFeature.geometry if layer.name == LayerName.PROTECTED_AREAS.value else Jurisdiction.boundary
    extent = (await session.execute(select(
        func.ST_XMin(func.ST_Extent(source)), func.ST_YMin(func.ST_Extent(source)),
        func.ST_XMax(func.ST_Extent(source)), func.ST_YMax(func.ST_Extent(source))))).one()
    bounds = WORLD_BOUNDS if extent[0] is None else tuple(round(float(value), 6) for value in extent)
    center_zoom = AGGREGATE_MAX_ZOOM if extent[0] is not None else 0
    return {
        "tilejson": "3.0.0",
        "name": layer.name,
        "description": layer.description,
        "scheme": "xyz",
        "tiles": [f"{base_url.rstrip('/')}/tiles/{layer.name}/{{z}}/{{x}}/{{y}}.mvt"],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "bounds": list(bounds),
        "center": [round((bounds[0] + bounds[2]) / 2, 6), round((bounds[1] + bounds[3]) / 2, 6), center_zoom],
        "vector_layers": [{"id": vector_layer.name, "minzoom": vector_layer.minzoom, "maxzoom": vector_layer.maxzoom,
                           "fields": {item.name: item.description for item in vector_layer.fields}}
                          for vector_layer in layer.vector_layers],
    }
