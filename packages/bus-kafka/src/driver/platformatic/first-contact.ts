import type { KafkaConnection } from "../../config";
import { sleep } from "../../util/deadline";
import { KafkaDriverError } from "../errors";
import { platformaticBaseOptions } from "./connection";
import { fromPlatformatic } from "./errors";
import { platformatic } from "./load";

/** Attempts of the first contact, 100 ms doubling in between (about 3 s in all), as the clients' own retries. */
const ATTEMPTS = 6;

/**
 * Reaches the cluster once (a metadata request) before a client is used, retrying here rather than in the library:
 * the library's retries nest (each metadata attempt retries the ApiVersions request under it), so a listener that
 * closes the connection took over 20 s to be reported, and a refusal no retry can change — a wrong SASL password,
 * an untrusted certificate, TLS against a plaintext port — was retried all the same. Here such a refusal is reported
 * at once, and the rest within about 3 s, as on kafkajs.
 */
export async function firstContact(connection: KafkaConnection): Promise<void> {
  const { Admin } = platformatic();
  for (let attempt = 1; ; attempt++) {
    const probe = new Admin({ ...platformaticBaseOptions(connection), retries: 0 });
    let failure: Error;
    try {
      await probe.metadata({ topics: [], forceUpdate: true });
      return;
    } catch (error) {
      failure = fromPlatformatic(error);
    } finally {
      await probe.close().catch(() => undefined);
    }
    if (!(failure instanceof KafkaDriverError) || !failure.retriable || attempt >= ATTEMPTS) throw failure;
    await sleep(100 * 2 ** (attempt - 1));
  }
}
