import { defineConfig } from "vite";

// The bundle is served by the app: index.html at `/` (revalidated), hashed files under /assets/
// (cached for a year). Nothing is loaded from elsewhere at run time.
export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 2048,
  },
  worker: { format: "es" },
  server: {
    proxy: { "/graphql": "http://127.0.0.1:8000", "/tiles": "http://127.0.0.1:8000",
             "/evidence": "http://127.0.0.1:8000", "/portal/config.json": "http://127.0.0.1:8000" },
  },
});
