import { BusError } from "../../errors";
import { errorLinks, KafkaDriverError, socketProblems, type ConnectProblem } from "../errors";

/**
 * A kafkajs failure as a {@link KafkaDriverError}. kafkajs nests the broker's answer under its retry and bail
 * wrappers (`KafkaJSNumberOfRetriesExceeded`, `KafkaJSNonRetriableError`) and aggregates (group and partition
 * reports); the protocol error's `type` is the broker's error name. The message stays kafkajs' own.
 */
export function fromKafkajs(error: unknown): Error {
  if (error instanceof KafkaDriverError || error instanceof BusError) return error;
  const links = errorLinks(error);
  const brokerErrors: string[] = [];
  let retriable = true;
  for (const { raw } of links) {
    if (typeof raw.type !== "string") continue;
    brokerErrors.push(raw.type);
    if (raw.retriable === false) retriable = false;
  }
  const { problems, tlsCode } = socketProblems(links);
  const connectProblems: ConnectProblem[] = [...problems];
  if (links.some((link) => link.name === "KafkaJSSASLAuthenticationError"))
    connectProblems.push("SASL_REFUSED");
  if (links.some((link) => link.name === "KafkaJSConnectionClosedError")) {
    connectProblems.push("CLOSED_BEFORE_ANSWER");
  }
  const message = error instanceof Error ? error.message : String(error);
  return new KafkaDriverError("kafkajs", message, {
    cause: error,
    brokerErrors,
    retriable,
    connectProblems,
    ...(tlsCode === undefined ? {} : { tlsCode }),
  });
}

/** Runs a kafkajs call; its failure is rethrown classified. */
export async function kafkajsCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw fromKafkajs(error);
  }
}

/**
 * kafkajs' metadata call asks one broker after another and, when every one fails, answers null, which its admin then
 * reads as "Cannot read properties of null (reading 'topicMetadata')" (tulios/kafkajs#549). Its own refresh just
 * before succeeded, so the brokers were reachable: what they refused is a topic deleted in between (a cleanup
 * racing a registration). Reported as that broker answer, UNKNOWN_TOPIC_OR_PARTITION, which callers already handle.
 */
export function unknownTopicIfNoMetadata(error: unknown): unknown {
  if (!(error instanceof TypeError) || !error.message.includes("'topicMetadata'")) return error;
  return new KafkaDriverError("kafkajs", `no broker answered the topic metadata request (${error.message})`, {
    cause: error,
    brokerErrors: ["UNKNOWN_TOPIC_OR_PARTITION"],
  });
}
