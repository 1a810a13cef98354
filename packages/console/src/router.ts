/** The console's pages, in the order of the navigation bar. */
export const PAGES = ["fleet", "agents", "dlq", "tasks", "audit"] as const;
export type Page = (typeof PAGES)[number];

export const PAGE_TITLES: Record<Page, string> = {
  fleet: "Fleet",
  agents: "Agents",
  dlq: "Dead letters",
  tasks: "Tasks",
  audit: "Audit log",
};

export interface Route {
  page: Page;
  params: Record<string, string>;
}

/**
 * The route in a location hash: `#/agents?topic=t&name=a`. Hash routing keeps every page at /ui/ for the server
 * (one index.html, no fallback rules) and makes a page's URL shareable. Anything unknown is the fleet page.
 */
export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#\/?/, "");
  const [path = "", query = ""] = text.split("?", 2);
  const page = PAGES.find((candidate) => candidate === path) ?? "fleet";
  const params: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(query)) if (value !== "") params[key] = value;
  return { page, params };
}

/** The hash of a page with its parameters (empty and undefined ones left out), e.g. `#/dlq?topic=t&name=a`. */
export function routeHref(page: Page, params: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== "") query.set(key, value);
  const text = query.toString();
  return `#/${page}${text === "" ? "" : `?${text}`}`;
}
