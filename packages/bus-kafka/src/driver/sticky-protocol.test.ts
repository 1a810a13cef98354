import { decodeOwnership, encodeOwnership } from "./sticky-protocol";

describe("the sticky assignor's join metadata", () => {
  it("round-trips what a member owns", () => {
    const owned = { orders: [0, 3], "orders.retry": [1] };
    expect(decodeOwnership(encodeOwnership(owned))).toEqual(owned);
  });

  it("reads metadata it cannot understand as owning nothing, never throwing", () => {
    expect(decodeOwnership(undefined)).toEqual({});
    expect(decodeOwnership(Buffer.alloc(0))).toEqual({});
    expect(decodeOwnership(Buffer.from("not json"))).toEqual({});
    expect(decodeOwnership(Buffer.from("[1,2]"))).toEqual({});
    expect(decodeOwnership(Buffer.from('{"t":[1,"x",2.5,3],"u":"no"}'))).toEqual({ t: [1, 3] });
  });
});
