import { BusError } from "../errors";
import { HEADER, intHeader, type RecordHeaders } from "../headers";
import { entryKey, parseEntryKey, type DlqEntry } from "./entry";
import { isEmptyFilter, matchesDlqFilter, parseDlqFilter, type DlqFilter } from "./filter";

export interface DlqReplayOptions {
  /** Replay the entries of these task ids. */
  ids?: string[];
  /** Replay these records (`partition` and `offset` in the DLQ topic). */
  offsets?: Array<{ partition: number; offset: string | number }>;
  /** Replay the entries that match. */
  filter?: DlqFilter;
  /** Replay everything in the DLQ. */
  all?: boolean;
  /** Report what would be replayed; publish nothing. @default false */
  dryRun?: boolean;
  /** Replay entries that were replayed before, too. @default false */
  force?: boolean;
}

/** The one selector of a replay, validated. */
export type ReplaySelector =
  | { kind: "all" }
  | { kind: "ids"; ids: string[] }
  | { kind: "offsets"; keys: string[] }
  | { kind: "filter"; filter: DlqFilter };

const SELECTORS = ["all", "ids", "offsets", "filter"] as const;

function refuse(field: string, message: string): BusError {
  return new BusError("REPLAY_REFUSED", message, { field });
}

/**
 * Exactly one of `all`, `ids`, `offsets`, `filter`. A replay publishes events again, so an ambiguous request (two
 * selectors, an empty list, an empty filter that would mean "everything") is refused rather than guessed.
 */
export function parseReplaySelector(options: DlqReplayOptions): ReplaySelector {
  const given = SELECTORS.filter((name) => {
    if (name === "all") return options.all !== undefined && options.all !== false;
    return options[name] !== undefined;
  });
  if (given.length === 0) {
    throw refuse("all", "replay needs exactly one of all, ids, offsets or filter; none was given");
  }
  if (given.length > 1) {
    throw refuse(
      given[1] as string,
      `replay takes exactly one of all, ids, offsets or filter; got ${given.join(" and ")}`,
    );
  }
  const kind = given[0] as (typeof SELECTORS)[number];
  switch (kind) {
    case "all":
      if (options.all !== true) throw refuse("all", "all must be true or left out");
      return { kind: "all" };
    case "ids": {
      const ids = options.ids;
      if (!Array.isArray(ids) || ids.length === 0)
        throw refuse("ids", "ids must be a non-empty list of task ids");
      const bad = ids.findIndex((id) => typeof id !== "string" || id.length === 0 || id.length > 256);
      if (bad >= 0) throw refuse(`ids.${bad}`, `ids[${bad}] is not a task id`);
      return { kind: "ids", ids: [...new Set(ids)] };
    }
    case "offsets": {
      const offsets = options.offsets;
      if (!Array.isArray(offsets) || offsets.length === 0) {
        throw refuse("offsets", "offsets must be a non-empty list of { partition, offset }");
      }
      const keys = offsets.map((item, index) => {
        const parsed =
          item !== null &&
          typeof item === "object" &&
          (typeof item.offset === "string" || typeof item.offset === "number")
            ? parseEntryKey(`${String(item.partition)}:${String(item.offset)}`)
            : undefined;
        if (parsed === undefined) {
          throw refuse(
            `offsets.${index}`,
            `offsets[${index}] must be { partition, offset } with non-negative integers`,
          );
        }
        return entryKey(parsed.partition, parsed.offset);
      });
      return { kind: "offsets", keys: [...new Set(keys)] };
    }
    case "filter": {
      const filter = parseDlqFilter(options.filter, "REPLAY_REFUSED");
      if (isEmptyFilter(filter)) throw refuse("filter", "filter is empty; use all to replay everything");
      return { kind: "filter", filter };
    }
  }
}

export interface ReplayPlan {
  /** Entries to replay, in DLQ order. */
  replay: DlqEntry[];
  skipped: Array<{ entry: DlqEntry; reason: string }>;
  /** Task ids or `<partition>:<offset>` that matched nothing in the DLQ. */
  notFound: string[];
}

/** Whether the selector picks `entry` (replay status aside). */
export function selects(selector: ReplaySelector, entry: DlqEntry): boolean {
  switch (selector.kind) {
    case "all":
      return true;
    case "filter":
      return matchesDlqFilter(entry, selector.filter);
    case "ids":
      return entry.taskId !== undefined && selector.ids.includes(entry.taskId);
    case "offsets":
      return selector.keys.includes(entryKey(entry.partition, entry.offset));
  }
}

/**
 * What a replay does with one entry: ignore it (not selected), skip it (replayed before, without `force`), or
 * replay it. Pure: the entry carries its `replayed` flag from the ledger.
 */
export function replayVerdict(
  selector: ReplaySelector,
  entry: DlqEntry,
  force: boolean,
): { kind: "ignore" } | { kind: "skip"; reason: string } | { kind: "replay" } {
  if (!selects(selector, entry)) return { kind: "ignore" };
  if (entry.replayed && !force) return { kind: "skip", reason: "already replayed" };
  return { kind: "replay" };
}

/**
 * Collects which of the requested task ids or `<partition>:<offset>` the DLQ holds, while a replay pages through it.
 * Memory is bounded by the request (the ids it names), not by the DLQ.
 */
export class RequestedTally {
  private readonly seen = new Set<string>();

  constructor(private readonly selector: ReplaySelector) {}

  /** Notes a selected entry. */
  saw(entry: DlqEntry): void {
    if (this.selector.kind === "ids" && entry.taskId !== undefined) this.seen.add(entry.taskId);
    else if (this.selector.kind === "offsets") this.seen.add(entryKey(entry.partition, entry.offset));
  }

  /** The requested ids (or keys) no selected entry had. */
  notFound(): string[] {
    if (this.selector.kind === "ids") return this.selector.ids.filter((id) => !this.seen.has(id));
    if (this.selector.kind === "offsets") return this.selector.keys.filter((key) => !this.seen.has(key));
    return [];
  }
}

/** Chooses what a replay publishes, over entries already in memory. Pure: entries carry their `replayed` flag. */
export function planReplay(entries: DlqEntry[], selector: ReplaySelector, force: boolean): ReplayPlan {
  const tally = new RequestedTally(selector);
  const plan: ReplayPlan = { replay: [], skipped: [], notFound: [] };
  for (const entry of entries) {
    const verdict = replayVerdict(selector, entry, force);
    if (verdict.kind === "ignore") continue;
    tally.saw(entry);
    if (verdict.kind === "skip") plan.skipped.push({ entry, reason: verdict.reason });
    else plan.replay.push(entry);
  }
  plan.notFound = tally.notFound();
  return plan;
}

/**
 * Headers of the replayed event: the original headers and its origin (so provenance survives the round trip), a
 * fresh first attempt due now, and a pointer back to the DLQ record. The previous failure's headers are dropped —
 * the replay is a new run, its own failure (if any) writes new ones — and stay readable on the DLQ record it
 * points to.
 */
export function replayHeaders(
  entry: Pick<DlqEntry, "headers" | "partition" | "offset">,
  dlqTopic: string,
  now: number,
): RecordHeaders {
  const dropped = new Set<string>([
    HEADER.errorClass,
    HEADER.errorMessage,
    HEADER.errorStack,
    HEADER.dlqReason,
    HEADER.firstFailureAt,
    HEADER.lastFailureAt,
    HEADER.notBefore,
    HEADER.replayedMarker,
  ]);
  const kept = Object.fromEntries(Object.entries(entry.headers).filter(([name]) => !dropped.has(name)));
  return {
    ...kept,
    [HEADER.attempt]: "1",
    [HEADER.notBefore]: String(now),
    [HEADER.replayOf]: `${dlqTopic}:${entry.partition}:${entry.offset}`,
    [HEADER.replays]: String((intHeader(entry.headers, HEADER.replays) ?? 0) + 1),
  };
}

/** The ledger marker written into the DLQ partition of the replayed record. */
export function markerHeaders(entry: Pick<DlqEntry, "partition" | "offset">): RecordHeaders {
  return { [HEADER.replayedMarker]: entryKey(entry.partition, entry.offset) };
}
