import type { Actor } from "../services/types";

export const ACTOR_HEADER = "x-omnidaemon-actor";
export const DEFAULT_ACTOR = "api";
const MAX_ACTOR_LENGTH = 128;

/**
 * Who asked, for the audit log: the `X-Omnidaemon-Actor` header (the CLI sends `cli:user@host`), else "api".
 * The header is the client's claim, not an identity: it is bounded and reduced to a safe character set so it
 * cannot forge log lines or bloat the audit table.
 */
export function actorFrom(header: string | string[] | undefined): Actor {
  const raw = Array.isArray(header) ? header[0] : header;
  const name = (raw ?? "")
    .replace(/[^A-Za-z0-9@._:+/ -]/g, "_")
    .trim()
    .slice(0, MAX_ACTOR_LENGTH);
  return { name: name === "" || /^_+$/.test(name) ? DEFAULT_ACTOR : name };
}
