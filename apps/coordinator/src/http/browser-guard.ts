import { isLoopback } from "../config";

/** Why a request is refused, naming the header. */
export interface BrowserRefusal {
  field: "host" | "origin";
  message: string;
}

/** `host[:port]` from a Host header (IPv6 in brackets), or undefined when it is not one. */
function parseHostHeader(value: string): { hostname: string; port: number | undefined } | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(value);
  if (match === null) return undefined;
  return { hostname: match[1] as string, port: match[2] === undefined ? undefined : Number(match[2]) };
}

/**
 * Without a token the API has no credential a browser cannot send by itself, so a web page is the attacker:
 * - a foreign `Origin` (any page other than this server itself) could pause an agent with a body-less POST, which
 *   needs no CORS preflight;
 * - a non-loopback `Host` means a DNS-rebinding page reached the loopback listener under its own name, and could
 *   read the API as "same origin".
 * Clients that are not browsers (CLI, SDK, curl, probes) send a loopback Host and no Origin, and pass.
 * With a token, the bearer header is the defence and neither check applies.
 */
export function browserRefusal(
  headers: { host?: string | undefined; origin?: string | undefined },
  localPort: number,
): BrowserRefusal | undefined {
  const host = headers.host === undefined ? undefined : parseHostHeader(headers.host);
  if (host === undefined || !isLoopback(host.hostname)) {
    return {
      field: "host",
      message:
        "host: only a loopback Host (localhost, 127.0.0.1, [::1]) is accepted while OMNIDAEMON_API_TOKEN is unset (DNS-rebinding protection)",
    };
  }
  const origin = headers.origin;
  if (origin !== undefined && !isOwnOrigin(origin, localPort)) {
    return {
      field: "origin",
      message:
        "origin: cross-site requests are refused while OMNIDAEMON_API_TOKEN is unset; only this server's own origin may call the API from a browser",
    };
  }
  return undefined;
}

function isOwnOrigin(origin: string, localPort: number): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // includes the opaque origin "null" (sandboxed frames, file: pages)
  }
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  return (
    (url.protocol === "http:" || url.protocol === "https:") && isLoopback(url.hostname) && port === localPort
  );
}
