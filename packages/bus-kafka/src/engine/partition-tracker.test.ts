import { PartitionTracker } from "./partition-tracker";

describe("PartitionTracker", () => {
  it("has no position before anything is received", () => {
    const tracker = new PartitionTracker();
    expect(tracker.position()).toBeUndefined();
    expect(tracker.commitCandidate()).toBeUndefined();
  });

  it("commits only over the contiguous completed prefix when offsets complete out of order", () => {
    const tracker = new PartitionTracker();
    for (const offset of [10, 11, 12, 13]) tracker.receive(offset);
    tracker.complete(12);
    tracker.complete(13);
    expect(tracker.position()).toBe(10);
    tracker.complete(10);
    expect(tracker.position()).toBe(11);
    tracker.complete(11);
    expect(tracker.position()).toBe(14);
  });

  it("handles gaps in offsets (compaction, control records) without waiting for missing ones", () => {
    const tracker = new PartitionTracker();
    for (const offset of [5, 9, 20]) tracker.receive(offset);
    tracker.complete(5);
    expect(tracker.position()).toBe(9);
    tracker.complete(20);
    tracker.complete(9);
    expect(tracker.position()).toBe(21);
  });

  it("refuses offsets already seen, so a re-fetch after a rebalance is not processed twice", () => {
    const tracker = new PartitionTracker();
    expect(tracker.receive(0)).toBe(true);
    expect(tracker.receive(1)).toBe(true);
    expect(tracker.receive(1)).toBe(false);
    expect(tracker.receive(0)).toBe(false);
    expect(tracker.receive(2)).toBe(true);
  });

  it("offers a commit only when the position moved since the last commit", () => {
    const tracker = new PartitionTracker();
    tracker.receive(0);
    tracker.complete(0);
    expect(tracker.commitCandidate()).toBe(1);
    tracker.markCommitted(1);
    expect(tracker.commitCandidate()).toBeUndefined();
    tracker.receive(1);
    expect(tracker.commitCandidate()).toBeUndefined();
    tracker.complete(1);
    expect(tracker.commitCandidate()).toBe(2);
  });

  it("counts pending offsets and stays correct across compaction of a long history", () => {
    const tracker = new PartitionTracker();
    for (let offset = 0; offset < 5000; offset++) tracker.receive(offset);
    for (let offset = 0; offset < 4000; offset++) tracker.complete(offset);
    expect(tracker.position()).toBe(4000);
    expect(tracker.pendingCount).toBe(1000);
    for (let offset = 4999; offset >= 4000; offset--) tracker.complete(offset);
    expect(tracker.position()).toBe(5000);
    expect(tracker.pendingCount).toBe(0);
  });
});
