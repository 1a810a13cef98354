// Top self-time functions of a V8 .cpuprofile (node --cpu-prof), grouped by function and by code origin.
//
//   node --import tsx bench/tools/cpuprofile-top.ts <file.cpuprofile> [top=25]
import { readFileSync } from "node:fs";
import { relative } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const ROOT = relative("/", `${__dirname}/../..`);

function origin(url: string, name: string): string {
  if (name === "(idle)" || name === "(program)" || name === "(garbage collector)") return name;
  if (url === "") return "(native / V8 builtins)";
  if (url.includes("/node_modules/kafkajs/")) return "kafkajs";
  if (url.includes("/node_modules/zod/")) return "zod";
  if (url.includes("/node_modules/pino")) return "pino";
  if (url.includes("/node_modules/tsx/")) return "tsx (module loading)";
  if (url.includes("/packages/bus-kafka/src/")) return "bus-kafka (engine)";
  if (url.includes("/bench/")) return "bench harness";
  if (url.startsWith("node:")) return "node core";
  if (url.includes("/node_modules/"))
    return `other: ${url.split("/node_modules/").pop()?.split("/")[0] ?? url}`;
  return "other";
}

function shortUrl(url: string): string {
  const cleaned = url.replace(/^file:\/\//, "");
  const node = cleaned.indexOf("/node_modules/");
  if (node >= 0) return cleaned.slice(node + "/node_modules/".length);
  const rootAt = cleaned.indexOf(`/${ROOT}/`);
  return rootAt >= 0 ? cleaned.slice(rootAt + ROOT.length + 2) : cleaned;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  busyMs: number;
  byOrigin: Array<{ origin: string; ms: number; pct: number }>;
  top: Array<{ fn: string; where: string; origin: string; ms: number; pct: number }>;
  /** Engine functions by total time (self + callees, counted once per stack), except GC which has no caller. */
  engineInclusive: Array<{ fn: string; where: string; ms: number; pct: number }>;
}

export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const fns = new Map<string, { fn: string; where: string; origin: string; us: number }>();
  const origins = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = (byId.get(id) as ProfileNode).callFrame;
    const name = functionName || "(anonymous)";
    totalUs += us;
    if (name === "(idle)") idleUs += us;
    // tsx compiles a .ts file onto very few lines, so line numbers there mean nothing: name the file only.
    const where = url ? (url.endsWith(".ts") ? shortUrl(url) : `${shortUrl(url)}:${lineNumber + 1}`) : "";
    const key = `${name}@${where}`;
    const entry = fns.get(key) ?? { fn: name, where, origin: origin(url, name), us: 0 };
    entry.us += us;
    fns.set(key, entry);
    origins.set(entry.origin, (origins.get(entry.origin) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  // Inclusive time: walk the call tree, adding each node's subtree to every distinct function on its stack.
  const children = new Map(profile.nodes.map((node) => [node.id, node.children ?? []]));
  const subtree = new Map<number, number>();
  const subtreeOf = (id: number): number => {
    let total = self.get(id) ?? 0;
    for (const child of children.get(id) ?? []) total += subtreeOf(child);
    subtree.set(id, total);
    return total;
  };
  const root = profile.nodes[0] as ProfileNode;
  subtreeOf(root.id);
  const inclusive = new Map<string, { fn: string; where: string; us: number }>();
  const walk = (id: number, onStack: Set<string>): void => {
    const node = byId.get(id) as ProfileNode;
    const { functionName, url } = node.callFrame;
    let key: string | undefined;
    if (url.includes("/packages/bus-kafka/src/")) {
      key = `${functionName || "(anonymous)"}@${shortUrl(url)}`;
      if (!onStack.has(key)) {
        const entry = inclusive.get(key) ?? {
          fn: functionName || "(anonymous)",
          where: shortUrl(url),
          us: 0,
        };
        entry.us += subtree.get(id) ?? 0;
        inclusive.set(key, entry);
        onStack.add(key);
      } else key = undefined;
    }
    for (const child of node.children ?? []) walk(child, onStack);
    if (key !== undefined) onStack.delete(key);
  };
  walk(root.id, new Set());
  const pct = (us: number): number => (busyUs > 0 ? (100 * us) / busyUs : 0);
  return {
    file,
    totalMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    byOrigin: [...origins]
      .filter(([name]) => name !== "(idle)")
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ origin: name, ms: us / 1000, pct: pct(us) })),
    top: [...fns.values()]
      .filter((entry) => entry.fn !== "(idle)")
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map(({ fn, where, origin: from, us }) => ({ fn, where, origin: from, ms: us / 1000, pct: pct(us) })),
    engineInclusive: [...inclusive.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map(({ fn, where, us }) => ({ fn, where, ms: us / 1000, pct: pct(us) })),
  };
}

export function formatSummary(summary: ProfileSummary): string {
  const lines = [
    `${summary.file}: ${summary.totalMs.toFixed(0)} ms sampled, ${summary.busyMs.toFixed(0)} ms busy (not idle)`,
    "  self time by origin (% of busy):",
    ...summary.byOrigin.map(
      (o) => `    ${o.pct.toFixed(1).padStart(5)}%  ${o.ms.toFixed(0).padStart(6)} ms  ${o.origin}`,
    ),
    "  top functions by self time (% of busy):",
    ...summary.top.map(
      (t) =>
        `    ${t.pct.toFixed(1).padStart(5)}%  ${t.ms.toFixed(0).padStart(6)} ms  ${t.fn}  ${t.where}  [${t.origin}]`,
    ),
    ...(summary.engineInclusive.length === 0
      ? []
      : [
          "  engine (bus-kafka) functions by total time incl. callees (% of busy; GC not attributed):",
          ...summary.engineInclusive.map(
            (t) =>
              `    ${t.pct.toFixed(1).padStart(5)}%  ${t.ms.toFixed(0).padStart(6)} ms  ${t.fn}  ${t.where}`,
          ),
        ]),
  ];
  return lines.join("\n");
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error("usage: node --import tsx bench/tools/cpuprofile-top.ts <file.cpuprofile> [top=25]");
    process.exit(2);
  }
  console.log(formatSummary(summarizeProfile(file, top === undefined ? 25 : Number(top))));
}
