import type * as maplibregl from "maplibre-gl";
import { TerraDraw, TerraDrawLineStringMode, TerraDrawPointMode, TerraDrawPolygonMode } from "terra-draw";
import { TerraDrawMapLibreGLAdapter } from "terra-draw-maplibre-gl-adapter";
import turfArea from "@turf/area";

export type DrawMode = "point" | "linestring" | "polygon";
export const SQUARE_METERS_PER_MU = 10000 / 15;

/** The area of a geometry in mu (亩), on the sphere as turf measures it; 0 for points and lines. */
export function areaMu(geometry: GeoJSON.Geometry | null): number {
  if (!geometry || !/Polygon/.test(geometry.type)) return 0;
  return turfArea({ type: "Feature", properties: {}, geometry }) / SQUARE_METERS_PER_MU;
}

/**
 * One clue's geometry drawn on the map with terra-draw: a point, a line or a polygon; drawing a new
 * one replaces the last. `onChange` gets the finished geometry.
 */
export class GeometryDrawer {
  private draw: TerraDraw;

  constructor(map: maplibregl.Map, private onChange: (geometry: GeoJSON.Geometry | null) => void) {
    this.draw = new TerraDraw({
      adapter: new TerraDrawMapLibreGLAdapter({ map }),
      modes: [new TerraDrawPointMode(), new TerraDrawLineStringMode(), new TerraDrawPolygonMode()],
    });
    this.draw.start();
    this.draw.on("finish", (id) => {
      const others = this.draw.getSnapshot().filter((feature) => feature.id !== id).map((feature) => feature.id!);
      if (others.length) this.draw.removeFeatures(others);
      const finished = this.draw.getSnapshotFeature(id);
      this.onChange(finished ? (finished.geometry as GeoJSON.Geometry) : null);
    });
  }

  setMode(mode: DrawMode): void {
    this.draw.setMode(mode);
  }

  clear(): void {
    this.draw.clear();
    this.onChange(null);
  }

  stop(): void {
    this.draw.stop();
  }
}
