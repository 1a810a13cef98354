import { createHash } from "node:crypto";
import { lstat, readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import type { FastifyInstance, FastifyReply } from "fastify";
import { errorBody } from "./errors";

/** Where the operator console is served. */
export const CONSOLE_PREFIX = "/ui";
/** The fastify patterns of the console's routes (public: the page holds no data; its API calls carry the token). */
export const CONSOLE_ROUTES = [CONSOLE_PREFIX, `${CONSOLE_PREFIX}/*`] as const;

/**
 * The console's Content-Security-Policy: its own scripts, styles and API only — no inline script or style, no
 * other origin, no framing (clickjacking a "purge" button), no plugins, no `<base>` rewriting.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Sent with every /ui response, the 404s included. */
const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CONSOLE_CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/** Vite names every bundled file `assets/<name>-<content hash>.<ext>`: a new build gives new URLs. */
const IMMUTABLE = "public, max-age=31536000, immutable";
/** index.html (and the few unhashed files) is revalidated on every load, so a new build is picked up at once. */
const REVALIDATE = "no-cache";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
  cacheControl: string;
  etag: string;
}

/**
 * Every file of the built console, by its path below the assets directory (`index.html`, `assets/index-1a2b.js`).
 * Requests are looked up in this map and never joined to a filesystem path, so no URL — `..`, encoded slashes,
 * absolute paths, symlinks — can name a file outside the build. Symbolic links in the build are skipped.
 */
export async function loadConsoleAssets(dir: string): Promise<Map<string, ConsoleAsset>> {
  const assets = new Map<string, ConsoleAsset>();
  const walk = async (relative: string): Promise<void> => {
    for (const entry of await readdir(join(dir, relative), { withFileTypes: true })) {
      const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        const body = await readFile(join(dir, path));
        assets.set(path, {
          body,
          contentType: CONTENT_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream",
          cacheControl: path.startsWith("assets/") ? IMMUTABLE : REVALIDATE,
          etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`,
        });
      }
    }
  };
  await walk("");
  return assets;
}

export interface ConsoleRoutesOptions {
  /** The built console (`consoleAssetsDir()` of @omnidaemon/console). Read once, on the first /ui request. */
  assetsDir: string;
}

/**
 * Serves the built console under /ui: `/ui` and `/ui/` are index.html, `/ui/<path>` the file of that path. The
 * files are read into memory on the first request (a few hundred KiB) and answered from there, with an ETag.
 * A checkout that was never built answers 404 saying so.
 */
export function registerConsoleRoutes(app: FastifyInstance, options: ConsoleRoutesOptions): void {
  let loading: Promise<Map<string, ConsoleAsset> | undefined> | undefined;
  const assets = (): Promise<Map<string, ConsoleAsset> | undefined> =>
    (loading ??= (async () => {
      try {
        if (!(await lstat(options.assetsDir)).isDirectory()) return undefined;
      } catch {
        return undefined;
      }
      return loadConsoleAssets(options.assetsDir);
    })().catch((error: unknown) => {
      // An unreadable build fails this request (500, logged) and is read again by the next one.
      loading = undefined;
      throw error;
    }));

  const serve = async (path: string, ifNoneMatch: string | undefined, reply: FastifyReply) => {
    reply.headers(SECURITY_HEADERS);
    const files = await assets();
    if (files === undefined) {
      return reply
        .code(404)
        .send(
          errorBody(
            "not_found",
            "the console is not built: run `npm run build` (it builds packages/console into dist/ui)",
          ),
        );
    }
    const asset = files.get(path);
    if (asset === undefined) {
      return reply
        .code(404)
        .header("cache-control", REVALIDATE)
        .send(errorBody("not_found", `no console file ${CONSOLE_PREFIX}/${path.slice(0, 200)}`));
    }
    reply.header("cache-control", asset.cacheControl).header("etag", asset.etag);
    if (ifNoneMatch !== undefined && ifNoneMatch.split(/\s*,\s*/).includes(asset.etag)) {
      return reply.code(304).send();
    }
    return reply.type(asset.contentType).send(asset.body);
  };

  // With ignoreTrailingSlash, this one route answers both /ui and /ui/.
  app.get(CONSOLE_ROUTES[0], (request, reply) =>
    serve("index.html", request.headers["if-none-match"], reply),
  );
  app.get(CONSOLE_ROUTES[1], (request, reply) => {
    // With ignoreTrailingSlash the pattern is really `/ui*`: `/uiX` lands here too, and is no console file.
    if (!request.url.startsWith(`${CONSOLE_PREFIX}/`)) {
      const path = request.url.split("?")[0]?.slice(0, 200) ?? "";
      return reply
        .code(404)
        .send(errorBody("not_found", `no route ${request.method} ${path}; /openapi.json lists the API`));
    }
    const path = (request.params as { "*": string })["*"];
    return serve(path === "" ? "index.html" : path, request.headers["if-none-match"], reply);
  });
}
