/**
 * A set of offsets per partition, stored as sorted disjoint runs `[first, last]`: memory grows with the number of
 * runs, not of offsets. The replay ledger lives in one: a DLQ replayed in full is one run per partition, however
 * many records it holds.
 */
export class OffsetRuns {
  private readonly byPartition = new Map<number, Array<[bigint, bigint]>>();

  add(partition: number, offset: bigint): void {
    let runs = this.byPartition.get(partition);
    if (runs === undefined) {
      runs = [];
      this.byPartition.set(partition, runs);
    }
    const next = firstStartingAfter(runs, offset);
    const before = runs[next - 1];
    const after = runs[next];
    if (before !== undefined && before[1] >= offset) return;
    const joinsBefore = before !== undefined && before[1] + 1n === offset;
    const joinsAfter = after !== undefined && after[0] - 1n === offset;
    if (joinsBefore && joinsAfter) {
      before[1] = after[1];
      runs.splice(next, 1);
    } else if (joinsBefore) {
      before[1] = offset;
    } else if (joinsAfter) {
      after[0] = offset;
    } else {
      runs.splice(next, 0, [offset, offset]);
    }
  }

  has(partition: number, offset: bigint): boolean {
    const runs = this.byPartition.get(partition);
    if (runs === undefined) return false;
    const before = runs[firstStartingAfter(runs, offset) - 1];
    return before !== undefined && before[1] >= offset;
  }

  /** Runs held, over every partition (what the memory is proportional to). */
  get runCount(): number {
    let count = 0;
    for (const runs of this.byPartition.values()) count += runs.length;
    return count;
  }
}

/** Index of the first run starting after `offset` (binary search; `runs.length` when none does). */
function firstStartingAfter(runs: ReadonlyArray<readonly [bigint, bigint]>, offset: bigint): number {
  let low = 0;
  let high = runs.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((runs[middle] as readonly [bigint, bigint])[0] > offset) high = middle;
    else low = middle + 1;
  }
  return low;
}
