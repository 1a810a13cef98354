import { MinHeap } from "./min-heap";

/**
 * What the fair scheduler asks before it starts an item: the Throttle (./throttle.ts) is one.
 */
export interface AdmissionGate {
  /**
   * 0 when an item of `tenant` may start now (and the gate counted it), else the ms until one may. Asked only for
   * an item that starts if the answer is 0.
   */
  admit(tenant: string, now: number): number;
  /** Whether `admit` decides per tenant (a refused tenant does not stop the others) or for the whole agent. */
  readonly perTenant: boolean;
  /** Items this process may run at once, on top of the scheduler's own concurrency. */
  readonly inFlightLimit: number;
}

export interface FairSchedulerOptions<T> {
  /** The tenant of an item (`tenant_id`; "" for none). @default every item is tenant "" */
  tenantOf?: (item: T) => string;
  /** A tenant's weight (> 0): its share of starts relative to the others. @default 1 for every tenant */
  weightOf?: (tenant: string) => number;
  /** Asked before each start; see {@link AdmissionGate}. @default every start is admitted */
  gate?: AdmissionGate;
  /** The clock the gate is asked with. @default Date.now */
  now?: () => number;
}

interface KeyQueue<T> {
  items: T[];
  active: boolean;
  /** The tenant whose ready list holds this key now (the tenant of its head item); undefined when not ready. */
  readyIn: TenantQueue | undefined;
}

/** A tenant: its ready keys in arrival order, and its place in the fair order. */
interface TenantQueue {
  tenant: string;
  readyKeys: string[];
  readyHead: number;
  /** Keys whose `readyIn` is this tenant (entries of `readyKeys` can be stale). */
  readyCount: number;
  /** Virtual time of its next start: grows by 1/weight per start; the lowest pass goes first. */
  pass: number;
  /** Order of arrival among equal passes, so equal tenants take turns. */
  seq: number;
  /** In the ready order, asleep until the gate admits it (per-tenant refusal), or neither. */
  place: "ready" | "asleep" | "none";
  wakeAt: number;
}

/**
 * The engine's ready-queue (it replaced the per-key KeyScheduler: the same methods, the same per-key rules), fair across tenants: at most
 * `concurrency` items in flight, never two of one key at once, a key's items in arrival order — and across the
 * tenants with ready work, weighted fair queueing (stride scheduling): each tenant has a virtual time that grows by
 * 1/weight per start, and the lowest goes next. A tenant with 10,000 queued events and one with 100 take turns
 * instead of the second waiting behind the first; within a tenant, ready keys take turns as in KeyScheduler.
 *
 * Fairness bound: while tenants A and B both have ready work, A starts at most ⌊w_A / w_B⌋ + 1 items between two
 * starts of B. A tenant that had nothing ready and gets some joins at the current virtual time: it goes next, and
 * earns no credit for the time it was idle. (docs/rate-limits.md turns this into a bound in time.)
 *
 * With a gate (the Throttle), an item starts only when the gate admits its tenant. An agent-wide refusal stops the
 * round; a per-tenant refusal puts that tenant to sleep until the gate said (it keeps its place in the order, and
 * the others go on). After a refusal `throttledForMs` says when to call `next()` again. Pure bookkeeping, like
 * KeyScheduler: the caller starts what `next()` returns and calls `release(key)` when it is done.
 */
export class FairScheduler<T> {
  private readonly keys = new Map<string, KeyQueue<T>>();
  private readonly tenants = new Map<string, TenantQueue>();
  /** Waiting items per tenant (by each item's own tenant), for the queue-depth metric. */
  private readonly depths = new Map<string, number>();
  private readonly ready = new MinHeap<TenantQueue>((a, b) => a.pass - b.pass || a.seq - b.seq);
  private readonly asleep = new MinHeap<TenantQueue>((a, b) => a.wakeAt - b.wakeAt);
  /** The pass of the latest start: where a tenant that gets ready work joins. */
  private virtualTime = 0;
  private seq = 0;
  private running = 0;
  private queued = 0;
  private waitMs: number | undefined;
  private readonly tenantOf: (item: T) => string;
  private readonly weightOf: (tenant: string) => number;
  private readonly gate: AdmissionGate | undefined;
  private readonly now: () => number;

  constructor(
    private concurrency: number,
    options: FairSchedulerOptions<T> = {},
  ) {
    checkConcurrency(concurrency);
    this.tenantOf = options.tenantOf ?? (() => "");
    this.weightOf = options.weightOf ?? (() => 1);
    this.gate = options.gate;
    this.now = options.now ?? Date.now;
  }

  get inFlight(): number {
    return this.running;
  }

  /** Items waiting to start. */
  get buffered(): number {
    return this.queued;
  }

  /**
   * When the last `next()` returned nothing because the gate refused (now, or earlier for tenants still asleep):
   * the ms until the earliest refused start may be admitted; the caller sets a timer and calls `next()` again.
   * Undefined when the last `next()` started something or stopped for another reason (concurrency, busy keys,
   * nothing waiting) — a `release` or an `enqueue` ends those.
   */
  get throttledForMs(): number | undefined {
    return this.waitMs;
  }

  /** Waiting items per tenant (tenants with none are absent). */
  queueDepths(): ReadonlyMap<string, number> {
    return this.depths;
  }

  /** A new concurrency for the next starts (those running are not affected). */
  setConcurrency(concurrency: number): void {
    checkConcurrency(concurrency);
    this.concurrency = concurrency;
  }

  /**
   * Tenants asleep after a per-tenant refusal are asked again at the next `next()`: call it when the gate may
   * admit sooner than it said (new limits, a new assignment, a recovered rate).
   */
  wake(): void {
    for (let tenant = this.asleep.pop(); tenant; tenant = this.asleep.pop()) this.makeReady(tenant);
  }

  enqueue(key: string, item: T): void {
    let queue = this.keys.get(key);
    if (!queue) {
      queue = { items: [], active: false, readyIn: undefined };
      this.keys.set(key, queue);
    }
    queue.items.push(item);
    this.queued++;
    this.count(this.tenantOf(item), 1);
    this.markReady(key, queue);
  }

  /** The next item allowed to start, or undefined (at capacity, every waiting key busy, or the gate refused). */
  next(): { key: string; item: T } | undefined {
    this.waitMs = undefined;
    const limit = Math.min(this.concurrency, this.gate?.inFlightLimit ?? Number.POSITIVE_INFINITY);
    if (this.running >= limit) return undefined;
    const now = this.gate === undefined ? 0 : this.now();
    for (let tenant = this.asleep.peek(); tenant && tenant.wakeAt <= now; tenant = this.asleep.peek()) {
      this.asleep.pop();
      this.makeReady(tenant);
    }
    let refusedWait = Number.POSITIVE_INFINITY;
    for (let tenant = this.ready.peek(); tenant; tenant = this.ready.peek()) {
      const key = this.peekReadyKey(tenant);
      if (key === undefined) {
        this.ready.pop();
        tenant.place = "none";
        this.forgetIfIdle(tenant);
        continue;
      }
      if (this.gate !== undefined) {
        const wait = this.gate.admit(tenant.tenant, now);
        if (wait > 0) {
          refusedWait = Math.min(refusedWait, wait);
          if (!this.gate.perTenant) break;
          this.ready.pop();
          tenant.place = "asleep";
          tenant.wakeAt = now + wait;
          this.asleep.push(tenant);
          continue;
        }
      }
      this.ready.pop();
      tenant.place = "none";
      return this.start(tenant, key);
    }
    const sleeper = this.asleep.peek();
    if (sleeper !== undefined) refusedWait = Math.min(refusedWait, Math.max(1, sleeper.wakeAt - now));
    if (refusedWait !== Number.POSITIVE_INFINITY) this.waitMs = refusedWait;
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
      const kept: T[] = [];
      const gone: T[] = [];
      for (const item of queue.items) (predicate(item) ? gone : kept).push(item);
      if (gone.length === 0) continue;
      dropped += gone.length;
      queue.items = kept;
      const head = kept[0];
      if (head === undefined || queue.readyIn?.tenant !== this.tenantOf(head)) {
        // The head is gone, or another tenant's item now: the key is ready again under its new head's tenant.
        // (A key whose head keeps its tenant keeps its place, as in KeyScheduler.)
        this.unmarkReady(queue);
        if (kept.length === 0 && !queue.active) this.keys.delete(key);
        else this.markReady(key, queue);
      }
      for (const item of gone) this.count(this.tenantOf(item), -1);
    }
    this.queued -= dropped;
    return dropped;
  }

  private start(tenant: TenantQueue, key: string): { key: string; item: T } {
    this.takeReadyKey(tenant);
    const queue = this.keys.get(key) as KeyQueue<T>;
    queue.readyIn = undefined;
    tenant.readyCount--;
    const item = queue.items.shift() as T;
    queue.active = true;
    this.queued--;
    this.running++;
    this.virtualTime = Math.max(this.virtualTime, tenant.pass);
    tenant.pass += 1 / this.weight(tenant.tenant);
    if (tenant.readyCount > 0) this.enterReady(tenant);
    this.count(this.tenantOf(item), -1);
    this.forgetIfIdle(tenant);
    return { key, item };
  }

  private weight(tenant: string): number {
    const weight = this.weightOf(tenant);
    return Number.isFinite(weight) && weight > 0 ? weight : 1;
  }

  private markReady(key: string, queue: KeyQueue<T>): void {
    if (queue.active || queue.readyIn !== undefined || queue.items.length === 0) return;
    const name = this.tenantOf(queue.items[0] as T);
    let tenant = this.tenants.get(name);
    if (!tenant) {
      tenant = {
        tenant: name,
        readyKeys: [],
        readyHead: 0,
        readyCount: 0,
        pass: this.virtualTime,
        seq: 0,
        place: "none",
        wakeAt: 0,
      };
      this.tenants.set(name, tenant);
    }
    queue.readyIn = tenant;
    tenant.readyKeys.push(key);
    tenant.readyCount++;
    if (tenant.place === "none") this.makeReady(tenant);
  }

  private unmarkReady(queue: KeyQueue<T>): void {
    const tenant = queue.readyIn;
    if (tenant === undefined) return;
    queue.readyIn = undefined;
    tenant.readyCount--;
    // Its entry in the ready list goes stale; the tenant leaves the order when its turn finds nothing ready.
  }

  /** Back in the order, at no earlier than the current virtual time: an idle or asleep spell earns no credit. */
  private makeReady(tenant: TenantQueue): void {
    tenant.pass = Math.max(tenant.pass, this.virtualTime);
    this.enterReady(tenant);
  }

  private enterReady(tenant: TenantQueue): void {
    tenant.seq = this.seq++;
    tenant.place = "ready";
    this.ready.push(tenant);
  }

  /** The first key of `tenant`'s ready list that is still ready there, skipping stale entries. */
  private peekReadyKey(tenant: TenantQueue): string | undefined {
    while (tenant.readyHead < tenant.readyKeys.length) {
      const key = tenant.readyKeys[tenant.readyHead] as string;
      if (this.keys.get(key)?.readyIn === tenant) return key;
      tenant.readyHead++;
    }
    return undefined;
  }

  private takeReadyKey(tenant: TenantQueue): void {
    tenant.readyHead++;
    if (tenant.readyHead > 1024 && tenant.readyHead * 2 > tenant.readyKeys.length) {
      tenant.readyKeys = tenant.readyKeys.slice(tenant.readyHead);
      tenant.readyHead = 0;
    }
  }

  /**
   * A tenant with nothing ready, out of the order and without waiting items is forgotten (memory stays bounded by
   * the tenants with work). One that still has items behind busy keys is kept, with its pass.
   */
  private forgetIfIdle(tenant: TenantQueue): void {
    if (tenant.place !== "none" || tenant.readyCount > 0 || this.depths.has(tenant.tenant)) return;
    if (this.tenants.get(tenant.tenant) === tenant) this.tenants.delete(tenant.tenant);
  }

  private count(tenant: string, delta: number): void {
    const depth = (this.depths.get(tenant) ?? 0) + delta;
    if (depth > 0) {
      this.depths.set(tenant, depth);
      return;
    }
    this.depths.delete(tenant);
    const queue = this.tenants.get(tenant);
    if (queue !== undefined) this.forgetIfIdle(queue);
  }
}

function checkConcurrency(concurrency: number): void {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be an integer >= 1, got ${concurrency}`);
  }
}
