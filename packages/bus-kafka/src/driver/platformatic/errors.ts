import { BusError } from "../../errors";
import { errorLinks, KafkaDriverError, socketProblems, type ConnectProblem } from "../errors";

/**
 * A @platformatic/kafka failure as a {@link KafkaDriverError}. The client wraps everything in `MultipleErrors`
 * (one per retry, one per broker) whose `errors` hold `ProtocolError`s (`apiId` is the broker's error name,
 * `canRetry` its verdict), `NetworkError`s (the socket error as `cause`) and `AuthenticationError`s.
 *
 * Two answers carry no code and are recognised by their text, here at the edge only: a metadata request for a
 * missing topic fails with `UserError("Unknown topic <name>.")` (the broker's UNKNOWN_TOPIC_OR_PARTITION is
 * dropped), and a connection the broker closed is `NetworkError("Connection closed")`.
 */
export function fromPlatformatic(error: unknown): Error {
  if (error instanceof KafkaDriverError || error instanceof BusError) return error;
  const links = errorLinks(error);
  const brokerErrors: string[] = [];
  let retriable = true;
  for (const { raw, code, message } of links) {
    if (code === "PLT_KFK_PROTOCOL" && typeof raw.apiId === "string") {
      brokerErrors.push(raw.apiId);
      if (raw.canRetry === false) retriable = false;
    } else if (code === "PLT_KFK_USER" && /^Unknown topic /.test(message)) {
      brokerErrors.push("UNKNOWN_TOPIC_OR_PARTITION");
    }
  }
  const { problems, tlsCode } = socketProblems(links);
  const connectProblems: ConnectProblem[] = [...problems];
  if (links.some((link) => link.code === "PLT_KFK_AUTHENTICATION")) connectProblems.push("SASL_REFUSED");
  if (links.some((link) => link.code === "PLT_KFK_NETWORK" && /^Connection closed/.test(link.message))) {
    connectProblems.push("CLOSED_BEFORE_ANSWER");
  }
  return new KafkaDriverError("platformatic", describe(error, brokerErrors), {
    cause: error,
    brokerErrors,
    retriable,
    connectProblems,
    ...(tlsCode === undefined ? {} : { tlsCode }),
  });
}

/**
 * The client's top message says which operation failed ("Producing messages failed."); the broker's error names or
 * the innermost causes say why, so both go into the one line a log shows.
 */
function describe(error: unknown, brokerErrors: string[]): string {
  const top = error instanceof Error ? error.message : String(error);
  if (brokerErrors.length > 0) return `${top} (${[...new Set(brokerErrors)].join(", ")})`;
  const leaves = new Set<string>();
  const collect = (current: unknown, depth: number): void => {
    if (current === null || typeof current !== "object" || depth > 8) return;
    const { cause, errors, message } = current as { cause?: unknown; errors?: unknown; message?: unknown };
    const children = [...(Array.isArray(errors) ? errors : []), ...(cause === undefined ? [] : [cause])];
    if (children.length === 0 && typeof message === "string" && message !== top) leaves.add(message);
    for (const child of children) collect(child, depth + 1);
  };
  collect(error, 0);
  return leaves.size === 0 ? top : `${top} (${[...leaves].join("; ")})`;
}

/** Runs a @platformatic/kafka call; its failure is rethrown classified. */
export async function platformaticCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw fromPlatformatic(error);
  }
}
