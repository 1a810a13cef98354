/**
 * Sticky partition assignment, per topic: every member keeps the partitions it owned (up to its fair share), the
 * rest go to the members with the fewest. When a worker leaves, the survivors lose nothing — only the leaver's
 * partitions move — so their in-flight deliveries are not aborted and re-run elsewhere. kafkajs ships only
 * round robin, which reshuffles everything on every membership change.
 *
 * Pure: members' previous ownership in, new assignment out. Balanced to within one partition per topic.
 */
export type Ownership = Record<string, number[]>;

export function stickyAssign(
  partitionsByTopic: Record<string, number[]>,
  members: Array<{ memberId: string; owned: Ownership }>,
): Record<string, Ownership> {
  const ids = members.map((m) => m.memberId).sort();
  const result: Record<string, Ownership> = Object.fromEntries(ids.map((id) => [id, {}]));
  if (ids.length === 0) return result;
  const ownedBy = new Map(members.map((m) => [m.memberId, m.owned]));

  for (const topic of Object.keys(partitionsByTopic).sort()) {
    const partitions = [...(partitionsByTopic[topic] ?? [])].sort((a, b) => a - b);
    const exists = new Set(partitions);
    const base = Math.floor(partitions.length / ids.length);
    const extra = partitions.length % ids.length;
    // Who may hold base+1: the members that already hold the most keep that privilege (less movement).
    const previousCount = (id: string): number =>
      (ownedBy.get(id)?.[topic] ?? []).filter((p) => exists.has(p)).length;
    const byPrevious = [...ids].sort((a, b) => previousCount(b) - previousCount(a) || a.localeCompare(b));
    const quota = new Map(byPrevious.map((id, i) => [id, base + (i < extra ? 1 : 0)]));

    const taken = new Set<number>();
    const assigned = new Map<string, number[]>(ids.map((id) => [id, []]));
    // 1. Keep what each member owned, up to its quota; a partition claimed twice goes to the first claimant.
    for (const id of ids) {
      for (const partition of [...(ownedBy.get(id)?.[topic] ?? [])].sort((a, b) => a - b)) {
        const mine = assigned.get(id) as number[];
        if (!exists.has(partition) || taken.has(partition) || mine.length >= (quota.get(id) as number))
          continue;
        mine.push(partition);
        taken.add(partition);
      }
    }
    // 2. Hand out the rest to whoever is furthest below quota.
    for (const partition of partitions) {
      if (taken.has(partition)) continue;
      const target = ids
        .filter((id) => (assigned.get(id) as number[]).length < (quota.get(id) as number))
        .sort(
          (a, b) =>
            (assigned.get(a) as number[]).length - (assigned.get(b) as number[]).length || a.localeCompare(b),
        )[0];
      if (target === undefined) break;
      (assigned.get(target) as number[]).push(partition);
      taken.add(partition);
    }
    for (const id of ids) {
      const mine = (assigned.get(id) as number[]).sort((a, b) => a - b);
      if (mine.length > 0) (result[id] as Ownership)[topic] = mine;
    }
  }
  return result;
}
