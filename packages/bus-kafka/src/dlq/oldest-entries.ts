import { compareEntries, entryKey, type DlqEntry } from "./entry";

/**
 * The `capacity` oldest entries offered so far (by {@link compareEntries}), in a bounded max-heap: a list of a DLQ
 * holds at most `limit` entries whatever the DLQ's size. Kept entries can be found by `<partition>:<offset>`, so
 * a replay marker read later can flag its entry.
 */
export class OldestEntries {
  private readonly heap: DlqEntry[] = [];
  private readonly byKey = new Map<string, DlqEntry>();

  constructor(private readonly capacity: number) {}

  /** Keeps `entry` if it is among the oldest `capacity`, evicting the newest kept one when full. */
  offer(entry: DlqEntry): void {
    if (this.capacity <= 0) return;
    if (this.heap.length < this.capacity) {
      this.heap.push(entry);
      this.up(this.heap.length - 1);
    } else {
      const newest = this.heap[0] as DlqEntry;
      if (compareEntries(entry, newest) >= 0) return;
      this.byKey.delete(entryKey(newest.partition, newest.offset));
      this.heap[0] = entry;
      this.down(0);
    }
    this.byKey.set(entryKey(entry.partition, entry.offset), entry);
  }

  get(key: string): DlqEntry | undefined {
    return this.byKey.get(key);
  }

  /** The kept entries, oldest first. */
  sorted(): DlqEntry[] {
    return [...this.heap].sort(compareEntries);
  }

  private up(index: number): void {
    const heap = this.heap;
    while (index > 0) {
      const parent = (index - 1) >>> 1;
      if (compareEntries(heap[index] as DlqEntry, heap[parent] as DlqEntry) <= 0) return;
      [heap[index], heap[parent]] = [heap[parent] as DlqEntry, heap[index] as DlqEntry];
      index = parent;
    }
  }

  private down(index: number): void {
    const heap = this.heap;
    for (;;) {
      let largest = index;
      for (const child of [2 * index + 1, 2 * index + 2]) {
        if (child < heap.length && compareEntries(heap[child] as DlqEntry, heap[largest] as DlqEntry) > 0)
          largest = child;
      }
      if (largest === index) return;
      [heap[index], heap[largest]] = [heap[largest] as DlqEntry, heap[index] as DlqEntry];
      index = largest;
    }
  }
}
