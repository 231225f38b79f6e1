import * as maplibregl from "maplibre-gl";
import type { StyleSpecification, LayerSpecification } from "maplibre-gl";
import "maplibre-gl/dist/maplibre-gl.css";
// MapLibre 6 runs its tile work in a module worker of its own file: Vite bundles it like the rest.
import workerUrl from "maplibre-gl/dist/maplibre-gl-worker.mjs?worker&url";
import { authHeaders } from "./api";

maplibregl.setWorkerUrl(workerUrl);

// The platform's own vector tiles (geo/tiles.py), drawn with no outside basemap unless one is
// configured (PIL_PORTAL_BASEMAP_URL, a raster XYZ tile template, or nothing).
export const TILE_LAYERS = ["jurisdictions", "protected_areas", "referrals", "evidence"] as const;
export type TileLayer = (typeof TILE_LAYERS)[number];

let basemapUrl: string | null = null;

export async function loadPortalConfig(): Promise<void> {
  try {
    const response = await fetch("/portal/config.json");
    if (response.ok) basemapUrl = (await response.json()).basemapUrl ?? null;
  } catch { /* the map works without one */ }
}

// The district the platform's tests and demo live in, until the viewer's own data says otherwise.
const DEFAULT_CENTER: [number, number] = [113.3, 33.75];

function tileSource(layer: TileLayer) {
  return { type: "vector" as const, tiles: [`${location.origin}/tiles/${layer}/{z}/{x}/{y}.mvt`], minzoom: 0, maxzoom: 16 };
}

/** Referral colours by status (the overview map's legend uses the same). */
export const STATUS_COLORS: Record<string, string> = {
  SUBMITTED: "#c0392b", REGISTERED: "#e67e22", CASE_FILED: "#7d3c98", RETURNED: "#2e86c1", DECLINED: "#7f8c8d", WITHDRAWN: "#95a5a6",
};
const STATUS_COLOR = ["match", ["get", "status"], ...Object.entries(STATUS_COLORS).flat(), "#c0392b"] as unknown as string;

function platformLayers(layers: readonly TileLayer[]): LayerSpecification[] {
  const out: LayerSpecification[] = [];
  if (layers.includes("jurisdictions")) {
    out.push({ id: "jurisdictions-line", type: "line", source: "jurisdictions", "source-layer": "jurisdictions",
      paint: { "line-color": "#5b6b7f", "line-width": 1.5, "line-dasharray": [3, 2] } });
  }
  if (layers.includes("protected_areas")) {
    out.push({ id: "protected-fill", type: "fill", source: "protected_areas", "source-layer": "protected_areas",
      paint: { "fill-color": "#3c9a5f", "fill-opacity": 0.18 } });
    out.push({ id: "protected-line", type: "line", source: "protected_areas", "source-layer": "protected_areas",
      paint: { "line-color": "#2f7a4b", "line-width": 1 } });
  }
  if (layers.includes("referrals")) {
    out.push({ id: "referral-cells", type: "circle", source: "referrals", "source-layer": "referral_cells",
      paint: { "circle-color": "#c0392b", "circle-opacity": 0.7,
        "circle-radius": ["interpolate", ["linear"], ["get", "count"], 1, 5, 100, 18] } });
    out.push({ id: "referrals-fill", type: "fill", source: "referrals", "source-layer": "referrals",
      filter: ["==", ["geometry-type"], "Polygon"], paint: { "fill-color": STATUS_COLOR, "fill-opacity": 0.3 } });
    out.push({ id: "referrals-line", type: "line", source: "referrals", "source-layer": "referrals",
      filter: ["!=", ["geometry-type"], "Point"], paint: { "line-color": STATUS_COLOR, "line-width": 2 } });
    out.push({ id: "referrals-point", type: "circle", source: "referrals", "source-layer": "referrals",
      filter: ["==", ["geometry-type"], "Point"],
      paint: { "circle-color": STATUS_COLOR, "circle-radius": 6, "circle-stroke-color": "#fff", "circle-stroke-width": 1 } });
  }
  if (layers.includes("evidence")) {
    out.push({ id: "evidence-point", type: "circle", source: "evidence", "source-layer": "evidence",
      paint: { "circle-color": "#1f6fb2", "circle-radius": 4, "circle-stroke-color": "#fff", "circle-stroke-width": 1 } });
  }
  return out;
}

export interface MapOptions {
  layers?: readonly TileLayer[];
  center?: [number, number];
  zoom?: number;
  name?: string; // how tests find this map (window.__portalMaps[name])
}

export function createMap(container: HTMLElement, options: MapOptions = {}): maplibregl.Map {
  const layers = options.layers ?? TILE_LAYERS;
  const sources: StyleSpecification["sources"] = {};
  for (const layer of layers) sources[layer] = tileSource(layer);
  const base: LayerSpecification[] = [{ id: "background", type: "background", paint: { "background-color": "#f3f1ea" } }];
  if (basemapUrl) {
    sources.basemap = { type: "raster", tiles: [basemapUrl], tileSize: 256 };
    base.push({ id: "basemap", type: "raster", source: "basemap" });
  }
  const map = new maplibregl.Map({
    container,
    style: { version: 8, sources, layers: [...base, ...platformLayers(layers)] },
    center: options.center ?? DEFAULT_CENTER,
    zoom: options.zoom ?? 10,
    attributionControl: false,
    // Tiles are authorised like GraphQL: the bearer token goes along with every tile request.
    transformRequest: (url: string) => (url.startsWith(`${location.origin}/tiles/`) ? { url, headers: authHeaders() } : { url }),
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  if (options.name) exposeForTests(options.name, map);
  return map;
}

declare global {
  interface Window { __portalMaps?: Record<string, maplibregl.Map> }
}

function exposeForTests(name: string, map: maplibregl.Map): void {
  // The browser tests read what the map drew (queryRenderedFeatures) rather than pixels.
  window.__portalMaps = window.__portalMaps ?? {};
  window.__portalMaps[name] = map;
}

/** The bounds of a GeoJSON geometry, for fitting a map to it. */
export function bounds(geometry: GeoJSON.Geometry): [number, number, number, number] {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  const visit = (coordinates: unknown): void => {
    if (typeof (coordinates as number[])[0] === "number") {
      const [x, y] = coordinates as number[];
      minX = Math.min(minX, x); minY = Math.min(minY, y); maxX = Math.max(maxX, x); maxY = Math.max(maxY, y);
    } else (coordinates as unknown[]).forEach(visit);
  };
  if (geometry.type === "GeometryCollection") geometry.geometries.forEach((g) => visit(bounds(g)));
  else visit((geometry as GeoJSON.Point).coordinates);
  return [minX, minY, maxX, maxY];
}

/** Show one geometry on a map in its own layer, and fit the view to it. */
export function showGeometry(map: maplibregl.Map, id: string, geometry: GeoJSON.Geometry, color = "#d35400"): void {
  const draw = () => {
    const data = { type: "Feature" as const, properties: {}, geometry };
    const existing = map.getSource(id) as maplibregl.GeoJSONSource | undefined;
    if (existing) existing.setData(data);
    else {
      map.addSource(id, { type: "geojson", data });
      map.addLayer({ id: `${id}-fill`, type: "fill", source: id, filter: ["==", ["geometry-type"], "Polygon"],
        paint: { "fill-color": color, "fill-opacity": 0.25 } });
      map.addLayer({ id: `${id}-line`, type: "line", source: id, paint: { "line-color": color, "line-width": 2 } });
      map.addLayer({ id: `${id}-point`, type: "circle", source: id, filter: ["==", ["geometry-type"], "Point"],
        paint: { "circle-color": color, "circle-radius": 6 } });
    }
    const [minX, minY, maxX, maxY] = bounds(geometry);
    map.fitBounds([[minX, minY], [maxX, maxY]], { padding: 40, maxZoom: 15, duration: 0 });
  };
  if (map.isStyleLoaded()) draw();
  else map.once("load", draw);
}
