import { createHash, timingSafeEqual } from "node:crypto";

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

/**
 * True when `header` is `Bearer <token>`. The comparison takes the same time whatever the input: both sides are
 * hashed first, so neither the token's content nor its length leaks through timing.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (header === undefined) return false;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  const given = match?.[1] ?? "";
  const equal = timingSafeEqual(digest(given), digest(token));
  return match !== null && equal;
}

export const UNAUTHORIZED_MESSAGE =
  "missing or wrong bearer token: send 'Authorization: Bearer <token>' with the value of OMNIDAEMON_API_TOKEN " +
  "set on the coordinator";
