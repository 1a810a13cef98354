import { AssignerProtocol } from "kafkajs";
import { decodeMemberAssignment } from "./member-assignment";

describe("decodeMemberAssignment", () => {
  it("reads the consumer protocol's assignment as the clients encode it, partitions sorted", () => {
    const bytes = AssignerProtocol.MemberAssignment.encode({
      version: 1,
      assignment: { orders: [5, 0, 3], "orders.retry": [2] },
      userData: Buffer.from("sticky-state"),
    });
    expect(decodeMemberAssignment(bytes)).toEqual({ orders: [0, 3, 5], "orders.retry": [2] });
  });

  it("reads an assignment of no partitions and no user data", () => {
    const bytes = AssignerProtocol.MemberAssignment.encode({
      version: 0,
      assignment: {},
      userData: Buffer.alloc(0),
    });
    expect(decodeMemberAssignment(bytes)).toEqual({});
  });

  it("gives no assignment for a member between assignments (empty bytes) or missing bytes", () => {
    expect(decodeMemberAssignment(Buffer.alloc(0))).toEqual({});
    expect(decodeMemberAssignment(null)).toEqual({});
  });

  it("gives no assignment, not an error, for bytes of another layout or cut short", () => {
    const bytes = AssignerProtocol.MemberAssignment.encode({
      version: 1,
      assignment: { orders: [0, 1, 2] },
      userData: Buffer.alloc(0),
    });
    expect(decodeMemberAssignment(bytes.subarray(0, bytes.length - 8))).toEqual({});
    expect(decodeMemberAssignment(Buffer.from('{"connect":"worker-config"}'))).toEqual({});
  });
});
