import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { unsafeAddressKind } from "./address-policy";

/** Resolves a host name to every address it has (the shape of `dns.promises.lookup(host, { all: true })`). */
export type WebhookLookup = (hostname: string) => Promise<readonly LookupAddress[]>;

export const defaultLookup: WebhookLookup = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    );
  });

export const ALLOW_PRIVATE_HINT = "set OMNIDAEMON_WEBHOOK_ALLOW_PRIVATE=true to allow";

export type Destination =
  | {
      ok: true;
      url: URL;
      /**
       * The validated addresses the request must connect to, so a second DNS answer (rebinding) cannot point the
       * connection somewhere else (also when private destinations are allowed). Undefined for IP literals.
       */
      lookup?: LookupFunction;
    }
  | { ok: false; code: "invalid_url" | "refused"; error: string };

/** The URL as it may appear in logs and errors: no credentials, no query string (either may carry a token). */
export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * Parses and vets a webhook URL. Refusals (bad scheme, unsafe address) are permanent; a DNS failure throws, and
 * the caller treats it like any network error (retried).
 */
export async function resolveDestination(
  rawUrl: string,
  options: { allowPrivateAddresses: boolean; lookup: WebhookLookup },
): Promise<Destination> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { ok: false, code: "invalid_url", error: "webhook URL is not a valid absolute URL" };
  }
  const shown = displayUrl(url);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { ok: false, code: "refused", error: `webhook ${shown} refused: only http and https are allowed` };
  }
  // WHATWG URL keeps IPv6 literals bracketed and normalizes IPv4 spellings (0x7f.1 → 127.0.0.1).
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (isIP(host) !== 0) {
    const kind = options.allowPrivateAddresses ? undefined : unsafeAddressKind(host);
    if (kind === undefined) return { ok: true, url };
    return {
      ok: false,
      code: "refused",
      error: `webhook ${shown} refused: ${host} is ${kind}; ${ALLOW_PRIVATE_HINT}`,
    };
  }

  const addresses = await options.lookup(host);
  if (addresses.length === 0) throw new Error(`${host} resolved to no address`);
  for (const { address } of options.allowPrivateAddresses ? [] : addresses) {
    const kind = unsafeAddressKind(address);
    if (kind !== undefined) {
      return {
        ok: false,
        code: "refused",
        error: `webhook ${shown} refused: ${host} resolves to ${address}, ${kind}; ${ALLOW_PRIVATE_HINT}`,
      };
    }
  }
  return { ok: true, url, lookup: pinnedLookup(addresses) };
}

/** A `lookup` for `http.request` that answers only with addresses already validated. */
export function pinnedLookup(addresses: readonly LookupAddress[]): LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === "IPv4" ? 4 : options.family === "IPv6" ? 6 : (options.family ?? 0);
    const usable = family === 0 ? [...addresses] : addresses.filter((a) => a.family === family);
    const first = usable[0];
    if (first === undefined) {
      const error: NodeJS.ErrnoException = new Error(`${hostname} has no IPv${family} address`);
      error.code = "ENOTFOUND";
      callback(error, "", 0);
    } else if (options.all) {
      callback(null, usable);
    } else {
      callback(null, first.address, first.family);
    }
  };
}
