/**
 * Runs work items with at most `concurrency` in flight and never two with the same key at once. Items of one key
 * run in arrival order; different keys interleave fairly (round robin over ready keys), so a hot key cannot starve
 * the others. Pure bookkeeping: the caller starts what `next()` returns and calls `release(key)` when it is done.
 */
interface KeyQueue<T> {
  items: T[];
  active: boolean;
  ready: boolean;
}

export class KeyScheduler<T> {
  private readonly keys = new Map<string, KeyQueue<T>>();
  private readyKeys: string[] = [];
  private readyHead = 0;
  private running = 0;
  private queued = 0;

  constructor(private concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be an integer >= 1, got ${concurrency}`);
    }
  }

  get inFlight(): number {
    return this.running;
  }

  /** Items waiting to start. */
  get buffered(): number {
    return this.queued;
  }

  enqueue(key: string, item: T): void {
    let queue = this.keys.get(key);
    if (!queue) {
      queue = { items: [], active: false, ready: false };
      this.keys.set(key, queue);
    }
    queue.items.push(item);
    this.queued++;
    this.markReady(key, queue);
  }

  /** The next item allowed to start, or undefined (at capacity, or every waiting key is busy). */
  next(): { key: string; item: T } | undefined {
    if (this.running >= this.concurrency) return undefined;
    while (this.readyHead < this.readyKeys.length) {
      const key = this.readyKeys[this.readyHead++] as string;
      const queue = this.keys.get(key);
      // A key can sit in the ready list twice (dropped and re-added); only the entry that is still `ready` counts.
      if (!queue?.ready) continue;
      queue.ready = false;
      if (queue.active || queue.items.length === 0) continue;
      const item = queue.items.shift() as T;
      queue.active = true;
      this.queued--;
      this.running++;
      this.compactReady();
      return { key, item };
    }
    this.compactReady();
    return undefined;
  }

  /** The item of `key` finished; the key's next item (if any) becomes ready. */
  release(key: string): void {
    const queue = this.keys.get(key);
    if (!queue?.active) return;
    queue.active = false;
    this.running--;
    if (queue.items.length === 0) this.keys.delete(key);
    else this.markReady(key, queue);
  }

  /** Drops waiting items that match (e.g. records of a revoked partition). Returns how many were dropped. */
  drop(predicate: (item: T) => boolean): number {
    let dropped = 0;
    for (const [key, queue] of this.keys) {
      const kept = queue.items.filter((item) => !predicate(item));
      dropped += queue.items.length - kept.length;
      queue.items = kept;
      if (kept.length === 0 && !queue.active) this.keys.delete(key);
    }
    this.queued -= dropped;
    return dropped;
  }

  private markReady(key: string, queue: KeyQueue<T>): void {
    if (queue.active || queue.ready || queue.items.length === 0) return;
    queue.ready = true;
    this.readyKeys.push(key);
  }

  private compactReady(): void {
    if (this.readyHead > 1024 && this.readyHead * 2 > this.readyKeys.length) {
      this.readyKeys = this.readyKeys.slice(this.readyHead);
      this.readyHead = 0;
    }
  }
}
