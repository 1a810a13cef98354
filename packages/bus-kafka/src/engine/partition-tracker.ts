/**
 * Tracks one partition's offsets from receipt to completion and yields the position that is safe to commit: the
 * first offset not yet completed. Offsets complete out of order (concurrency within a partition); the commit
 * position only moves over a contiguous run of completed offsets, so a crash can repeat events but never skip one.
 *
 * Offsets arrive in increasing order per partition but may have gaps (compaction, control records), so the
 * tracker remembers the offsets it saw rather than assuming +1 steps.
 */
export class PartitionTracker {
  private readonly outstanding: number[] = [];
  private head = 0;
  private readonly completed = new Set<number>();
  private highestReceived = -1;
  private committedPosition: number | undefined;

  /** Records receipt. Returns false for an offset already seen (a re-fetch after a rebalance kept this partition). */
  receive(offset: number): boolean {
    if (offset <= this.highestReceived) return false;
    this.highestReceived = offset;
    this.outstanding.push(offset);
    return true;
  }

  complete(offset: number): void {
    this.completed.add(offset);
  }

  /** Offsets received and not yet completed. */
  get pendingCount(): number {
    return this.outstanding.length - this.head - this.completed.size;
  }

  get highest(): number {
    return this.highestReceived;
  }

  /** Next offset to consume after the contiguous completed prefix, or undefined before anything was received. */
  position(): number | undefined {
    while (this.head < this.outstanding.length) {
      const offset = this.outstanding[this.head] as number;
      if (!this.completed.delete(offset)) break;
      this.head++;
    }
    // Compact now and then so the array does not grow with the partition's lifetime.
    if (this.head > 1024 && this.head * 2 > this.outstanding.length) {
      this.outstanding.splice(0, this.head);
      this.head = 0;
    }
    if (this.highestReceived < 0) return undefined;
    return this.head < this.outstanding.length
      ? (this.outstanding[this.head] as number)
      : this.highestReceived + 1;
  }

  /** The position to commit if it moved since the last commit, else undefined. */
  commitCandidate(): number | undefined {
    const position = this.position();
    return position !== undefined && position !== this.committedPosition ? position : undefined;
  }

  markCommitted(position: number): void {
    if (this.committedPosition === undefined || position > this.committedPosition) {
      this.committedPosition = position;
    }
  }

  get committed(): number | undefined {
    return this.committedPosition;
  }
}
