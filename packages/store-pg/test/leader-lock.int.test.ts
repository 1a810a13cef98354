// Leader election through a Postgres advisory lock: among stores on one schema exactly one leads, a stopped or
// disconnected leader hands over, and other schemas elect their own leader.
import type { LeaderLock, PgStore } from "../src";
import { dropSchema, waitFor, withPostgres, delay } from "@omnidaemon/testkit";
import { newSchema, startStore } from "./support";

const schema = newSchema("leader");
const otherSchema = newSchema("leader_other");
const stores: PgStore[] = [];
const locks: LeaderLock[] = [];

afterAll(async () => {
  await Promise.all(locks.map((lock) => lock.stop()));
  await Promise.all(stores.map((store) => store.stop()));
  await dropSchema(schema);
  await dropSchema(otherSchema);
});

async function lockOn(onSchema: string, onChange?: (leader: boolean) => void): Promise<LeaderLock> {
  const store = await startStore(onSchema);
  stores.push(store);
  const lock = store.leaderLock({ intervalMs: 100, ...(onChange ? { onChange } : {}) });
  locks.push(lock);
  await lock.start();
  return lock;
}

describe("leader lock", () => {
  it("elects exactly one leader, fails over when it stops, and keeps schemas apart", async () => {
    const a = await lockOn(schema);
    const b = await lockOn(schema);
    const c = await lockOn(schema);
    await waitFor(
      "one leader among three",
      () => [a, b, c].filter((lock) => lock.isLeader()).length === 1,
      5_000,
      50,
    );
    const first = [a, b, c].find((lock) => lock.isLeader())!;

    const other = await lockOn(otherSchema);
    await waitFor("the other lock to lead", () => other.isLeader(), 5_000, 50);
    expect([a, b, c].filter((lock) => lock.isLeader())).toEqual([first]);

    await first.stop();
    expect(first.isLeader()).toBe(false);
    const rest = [a, b, c].filter((lock) => lock !== first);
    await waitFor(
      "one leader among the rest",
      () => rest.filter((lock) => lock.isLeader()).length === 1,
      5_000,
      50,
    );
    // Still exactly one, a while later.
    await delay(300);
    expect(rest.filter((lock) => lock.isLeader())).toHaveLength(1);
  });

  it("steps down when its session is killed, and one replica leads again", async () => {
    const leaderSchema = newSchema("leader_kill");
    try {
      const changes = new Map<string, boolean[]>([
        ["a", []],
        ["b", []],
      ]);
      const a = await lockOn(leaderSchema, (leader) => changes.get("a")!.push(leader));
      const b = await lockOn(leaderSchema, (leader) => changes.get("b")!.push(leader));
      await waitFor("exactly one leader", () => a.isLeader() !== b.isLeader(), 5_000, 50);
      const leaderName = a.isLeader() ? "a" : "b";
      await withPostgres((client) =>
        client.query(
          `select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and granted
             and pid <> pg_backend_pid() and (classid::bigint << 32) | objid::bigint = hashtextextended($1, 0)`,
          [`omnidaemon:${leaderSchema}:leader`],
        ),
      );
      // The killed session's holder stepped down; then either replica (it reconnects too) takes the lock.
      await waitFor("the leader to see its loss", () => changes.get(leaderName)!.includes(false), 5_000, 50);
      await waitFor("exactly one leader again", () => a.isLeader() !== b.isLeader(), 5_000, 50);
      await delay(300);
      expect([a, b].filter((lock) => lock.isLeader())).toHaveLength(1);
    } finally {
      await dropSchema(leaderSchema);
    }
  });
});
