// The worker's own helpers for its multi-process integration suites. The fleet itself (coordinator and worker
// processes from the built CLI, the recording agents module and its log, a publisher straight to Kafka, the clean-up)
// is @omnidaemon/testkit's, shared with the fault, console, secure and deploy suites.
import { join } from "node:path";

/** The worker's own fixtures: agents modules it must refuse. */
export const FIXTURES = join(__dirname, "fixtures");

/** Sum of the Prometheus samples of `name` whose labels include `labels`; undefined when there is none. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line === "") continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      found[pair[1] as string] = pair[2] as string;
    }
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum = (sum ?? 0) + Number(match[3]);
  }
  return sum;
}
