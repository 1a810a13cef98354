import type { Ownership } from "../engine/sticky-assignment";

/**
 * The sticky assignor as both drivers speak it in the classic group protocol (kafkajs's and @platformatic/kafka's
 * members can share a group): its name, and each member's join metadata (`userData`) — the partitions it owns, as
 * JSON — from which the group leader computes {@link stickyAssign}.
 */
export const STICKY_ASSIGNER_NAME = "OmnidaemonStickyAssigner";

export function encodeOwnership(owned: Ownership): Buffer {
  return Buffer.from(JSON.stringify(owned));
}

/** What a member says it owns; a member whose metadata cannot be read simply starts with nothing. */
export function decodeOwnership(userData: Buffer | null | undefined): Ownership {
  if (!userData || userData.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(userData.toString("utf8"));
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return {};
    const owned: Ownership = {};
    for (const [topic, partitions] of Object.entries(parsed as Record<string, unknown>)) {
      if (Array.isArray(partitions))
        owned[topic] = partitions.filter((p): p is number => Number.isInteger(p));
    }
    return owned;
  } catch {
    return {};
  }
}
