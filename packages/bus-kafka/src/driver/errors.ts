import { isUntrustedCertificateCode } from "@omnidaemon/lifecycle";
import type { KafkaClientName } from "../config";

/**
 * One classification of Kafka client failures for the whole package, whichever client runs. Each driver maps its
 * library's errors into a {@link KafkaDriverError} at the edge (driver/kafkajs/errors.ts,
 * driver/platformatic/errors.ts); everything above the drivers routes on these fields, never on a library's error
 * classes or message text.
 */

/**
 * Broker answers the package routes on (Kafka protocol error names). A driver reports every protocol error name it
 * finds; these are the ones code above the drivers asks about.
 */
export const BROKER_ERRORS = [
  "UNKNOWN_TOPIC_OR_PARTITION",
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_RECORD",
  "INVALID_TOPIC_EXCEPTION",
  "TOPIC_AUTHORIZATION_FAILED",
  "TOPIC_ALREADY_EXISTS",
  "INVALID_PARTITIONS",
  "GROUP_ID_NOT_FOUND",
  "NON_EMPTY_GROUP",
] as const;
export type BrokerError = (typeof BROKER_ERRORS)[number];

/**
 * What a driver saw go wrong while reaching a broker, as observations (the connection settings decide which one is
 * the explanation, see connect-errors.ts):
 * - SASL_REFUSED: the broker refused the SASL login;
 * - CERT_UNTRUSTED: the broker's TLS certificate does not verify against the trusted CAs (`tlsCode` says how);
 * - CERT_NAME_MISMATCH: the certificate does not name the host that was dialled;
 * - CLOSED_BEFORE_ANSWER: the broker closed the connection before answering (what a TLS listener does to a
 *   plaintext client);
 * - NOT_TLS: the TLS handshake failed because the other side does not speak TLS;
 * - REFUSED: nothing accepts connections at the address.
 */
export const CONNECT_PROBLEMS = [
  "SASL_REFUSED",
  "CERT_UNTRUSTED",
  "CERT_NAME_MISMATCH",
  "CLOSED_BEFORE_ANSWER",
  "NOT_TLS",
  "REFUSED",
] as const;
export type ConnectProblem = (typeof CONNECT_PROBLEMS)[number];

/**
 * Connection problems a retry cannot change: the broker answered, and said no. The others may be a broker
 * restarting (a socket closed or reset mid-handshake looks the same as a TLS/plaintext mismatch).
 */
const SETTLED: readonly ConnectProblem[] = ["SASL_REFUSED", "CERT_UNTRUSTED", "CERT_NAME_MISMATCH"];

export interface KafkaDriverErrorDetails {
  cause: unknown;
  brokerErrors?: readonly string[];
  retriable?: boolean;
  connectProblems?: readonly ConnectProblem[];
  tlsCode?: string;
}

/** A Kafka client's failure, classified. The library's own error is the `cause`. */
export class KafkaDriverError extends Error {
  override readonly name = "KafkaDriverError";
  /** The client library that failed. */
  readonly client: KafkaClientName;
  /** Kafka protocol error names the broker answered with, anywhere in the failure (e.g. MESSAGE_TOO_LARGE). */
  readonly brokerErrors: readonly string[];
  /** Whether trying the same call again later may succeed. */
  readonly retriable: boolean;
  /** What went wrong reaching the broker, when the failure was about the connection. */
  readonly connectProblems: readonly ConnectProblem[];
  /** Node's certificate verification code, with CERT_UNTRUSTED (e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE). */
  readonly tlsCode: string | undefined;

  constructor(client: KafkaClientName, message: string, details: KafkaDriverErrorDetails) {
    super(message, { cause: details.cause });
    this.client = client;
    this.brokerErrors = [...new Set(details.brokerErrors ?? [])];
    this.connectProblems = [...new Set(details.connectProblems ?? [])];
    this.tlsCode = details.tlsCode;
    this.retriable =
      (details.retriable ?? true) && !this.connectProblems.some((problem) => SETTLED.includes(problem));
  }
}

/** The driver error in `error` or anything it wraps (a BusError keeps it as its cause). */
export function driverErrorOf(error: unknown): KafkaDriverError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current !== null && typeof current === "object"; depth++) {
    if (current instanceof KafkaDriverError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether the broker answered `code` somewhere in this failure. */
export function hasBrokerError(error: unknown, code: BrokerError): boolean {
  return driverErrorOf(error)?.brokerErrors.includes(code) ?? false;
}

/**
 * Broker verdicts about one record or one topic: sending the same record again fails the same way, however long
 * one waits. (UNKNOWN_TOPIC_OR_PARTITION is also what a stale metadata cache says, so the producer checks that the
 * topic is really gone before it trusts this one.)
 */
export const RECORD_REJECTIONS = [
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_RECORD",
  "INVALID_TOPIC_EXCEPTION",
  "TOPIC_AUTHORIZATION_FAILED",
  "UNKNOWN_TOPIC_OR_PARTITION",
] as const satisfies readonly BrokerError[];
export type RecordRejection = (typeof RECORD_REJECTIONS)[number];

/** The broker's reason for refusing a record for good, or undefined when retrying may still succeed. */
export function rejectionOf(error: unknown): RecordRejection | undefined {
  const found = driverErrorOf(error)?.brokerErrors ?? [];
  return RECORD_REJECTIONS.find((code) => found.includes(code));
}

// --- helpers for the drivers' mappings ----------------------------------------------------------------------------

/** One error of a library's failure: the error itself, what it wraps, and what it aggregates. */
export interface ErrorLink {
  name: string;
  message: string;
  code: string | undefined;
  raw: Record<string, unknown>;
}

/**
 * Every error inside `error`, depth first: its `cause` (and kafkajs' `originalError`), the members of an aggregate
 * (`errors`), and the per-item errors of kafkajs' group and partition reports. Bounded in depth and count.
 */
export function errorLinks(error: unknown): ErrorLink[] {
  const links: ErrorLink[] = [];
  const seen = new Set<unknown>();
  const visit = (current: unknown, depth: number): void => {
    if (
      current === null ||
      typeof current !== "object" ||
      depth > 8 ||
      seen.has(current) ||
      links.length > 200
    ) {
      return;
    }
    seen.add(current);
    const raw = current as Record<string, unknown>;
    links.push({
      name: typeof raw.name === "string" ? raw.name : "",
      message: typeof raw.message === "string" ? raw.message : "",
      code: typeof raw.code === "string" ? raw.code : undefined,
      raw,
    });
    visit(raw.cause, depth + 1);
    visit(raw.originalError, depth + 1);
    for (const list of [raw.errors, raw.groups, raw.partitions]) {
      if (!Array.isArray(list)) continue;
      for (const item of list) {
        visit(item, depth + 1);
        if (item !== null && typeof item === "object") visit((item as { error?: unknown }).error, depth + 1);
      }
    }
  };
  visit(error, 0);
  return links;
}

/**
 * The connection problems Node's own socket errors show, the same under either client: TLS verification, a TLS
 * handshake against a plaintext port, nothing listening. (Node gives the handshake failure no code of its own in
 * every case, hence the messages.)
 */
export function socketProblems(links: ErrorLink[]): { problems: ConnectProblem[]; tlsCode?: string } {
  const problems: ConnectProblem[] = [];
  const untrusted = links.find((link) => isUntrustedCertificateCode(link.code));
  if (untrusted) problems.push("CERT_UNTRUSTED");
  if (links.some((link) => link.code === "ERR_TLS_CERT_ALTNAME_INVALID")) problems.push("CERT_NAME_MISMATCH");
  if (
    links.some(
      (link) =>
        link.code === "EPROTO" || /wrong version number|before secure TLS connection/i.test(link.message),
    )
  ) {
    problems.push("NOT_TLS");
  }
  if (links.some((link) => link.code === "ECONNREFUSED" || /ECONNREFUSED/.test(link.message))) {
    problems.push("REFUSED");
  }
  return untrusted?.code === undefined ? { problems } : { problems, tlsCode: untrusted.code };
}
