import {
  CoordinatorApiError,
  CoordinatorClient,
  CoordinatorRequestError,
  type DlqReplayRequest,
} from "@omnidaemon/protocol";

/*
 * The console's door to the coordinator: the protocol's one CoordinatorClient (the SDK and the CLI use the same), set
 * up for a browser. Every response type the pages read is the protocol's, inferred from the schemas the coordinator's
 * routes are typed by; nothing here restates one. No page calls fetch() itself.
 */

/** Who the audit log records for the console's changes (the CLI sends `cli:<user>@<host>`). */
export const CONSOLE_ACTOR = "console";

/** A DLQ replay or purge reads the whole DLQ: up to the coordinator's own request timeout (120 s). */
export const LONG_REQUEST_TIMEOUT_MS = 120_000;

/**
 * The client for the coordinator that served the console (`origin`, the page's own by default). `token` is the
 * bearer token; absent, the coordinator runs without one (on loopback). Answers are live state, so never taken from
 * the HTTP cache, and no cookie is ever sent: the token travels in the header alone.
 */
export function consoleClient(token: string | undefined, origin = location.origin): CoordinatorClient {
  return new CoordinatorClient({
    url: origin,
    actor: CONSOLE_ACTOR,
    ...(token !== undefined && { token }),
    fetch: (input, init) => globalThis.fetch(input, { ...init, cache: "no-store", credentials: "omit" }),
  });
}

type Selector<K extends "ids" | "offsets" | "filter"> = Required<Pick<DlqReplayRequest, K>>;

/** Which entries a replay takes: exactly one of the request's selectors. */
export type ReplaySelector = { all: true } | Selector<"ids"> | Selector<"offsets"> | Selector<"filter">;

/** The replay request for `selector`: the selector alone, the dry-run flag, and force only when asked. */
export function replayRequest(
  topic: string,
  agent: string,
  selector: ReplaySelector,
  options: { dryRun: boolean; force?: boolean },
): DlqReplayRequest {
  return {
    topic,
    agent,
    ...selector,
    dry_run: options.dryRun,
    ...(options.force === true && { force: true }),
  };
}

/** A request that failed, or any other error, as the pages show it: the message and the HTTP status if any. */
export function failureOf(error: unknown): { message: string; status: number | undefined } {
  if (error instanceof CoordinatorRequestError) return { message: error.message, status: error.status };
  return { message: error instanceof Error ? error.message : String(error), status: undefined };
}

/** The coordinator refused the token (it was rotated, or never right). */
export function isUnauthorized(error: unknown): boolean {
  return error instanceof CoordinatorApiError && error.status === 401;
}

/** Nothing answered at the console's origin (or what answered is not the coordinator). */
export function isUnreachable(error: unknown): boolean {
  return error instanceof CoordinatorRequestError && error.status === undefined;
}
