import { MinHeap } from "./min-heap";

describe("MinHeap", () => {
  it("pops in the comparison's order, whatever the push order", () => {
    const heap = new MinHeap<number>((a, b) => a - b);
    const values = [5, 3, 9, 1, 1, 8, 2, 7, 6, 4, 0];
    for (const value of values) heap.push(value);
    expect(heap.size).toBe(values.length);
    expect(heap.peek()).toBe(0);
    const out: number[] = [];
    for (let value = heap.pop(); value !== undefined; value = heap.pop()) out.push(value);
    expect(out).toEqual([...values].sort((a, b) => a - b));
    expect(heap.pop()).toBeUndefined();
  });

  it("stays ordered when pushes and pops interleave", () => {
    const heap = new MinHeap<number>((a, b) => a - b);
    const reference: number[] = [];
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) % 1000;
    for (let round = 0; round < 2000; round++) {
      if (round % 3 === 2) {
        reference.sort((a, b) => a - b);
        expect(heap.pop()).toBe(reference.shift());
      } else {
        const value = random();
        heap.push(value);
        reference.push(value);
      }
    }
  });
});
