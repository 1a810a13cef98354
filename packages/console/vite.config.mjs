// Builds the console into dist/ui/, served by the coordinator under /ui/ (apps/coordinator/src/http/console.ts).
// No plugins: esbuild compiles the JSX with Preact's automatic runtime. Every asset is bundled and content-hashed
// (the coordinator caches dist/ui/assets/* as immutable), nothing is inlined into index.html (the Content-Security-
// Policy allows no inline script or style), and nothing is fetched from another origin.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  base: "/ui/",
  // The protocol's TypeScript sources (ES modules, so unused schemas can be left out), not its CommonJS build.
  resolve: {
    alias: {
      "@omnidaemon/protocol": fileURLToPath(new URL("../protocol/src/index.ts", import.meta.url)),
    },
  },
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist/ui",
    emptyOutDir: true,
    // Inlined assets would become data: URLs; everything stays a file of its own.
    assetsInlineLimit: 0,
    // The polyfill is injected into the entry chunk, not inline, but evergreen browsers do not need it.
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: "es2022",
    reportCompressedSize: false,
  },
  // `vite` (dev server) proxies the API to a coordinator on this machine, so the console can be developed live.
  server: {
    proxy: Object.fromEntries(
      ["/agents", "/topics", "/tasks", "/metrics", "/audit", "/bus", "/v1", "/health"].map((path) => [
        path,
        process.env.OMNIDAEMON_COORDINATOR_URL ?? "http://127.0.0.1:8765",
      ]),
    ),
  },
});
