import { ipv6Bytes, unsafeAddressKind } from "./address-policy";

describe("unsafeAddressKind", () => {
  it.each([
    ["127.0.0.1", "a loopback address"],
    ["127.255.0.9", "a loopback address"],
    ["::1", "a loopback address"],
    ["0.0.0.0", "an unspecified address"],
    ["::", "an unspecified address"],
    ["10.1.2.3", "a private address"],
    ["172.16.0.1", "a private address"],
    ["172.31.255.255", "a private address"],
    ["192.168.1.1", "a private address"],
    ["fd12:3456::1", "a private address"],
    ["fc00::1", "a private address"],
    ["169.254.169.254", "a link-local address"],
    ["fe80::1", "a link-local address"],
    ["100.64.0.1", "a carrier-grade NAT address"],
    ["100.127.255.254", "a carrier-grade NAT address"],
    ["::ffff:127.0.0.1", "a loopback address"],
    ["::ffff:7f00:1", "a loopback address"],
    ["::ffff:10.0.0.1", "a private address"],
    ["::ffff:169.254.169.254", "a link-local address"],
    ["::127.0.0.1", "an IPv4-compatible IPv6 address"],
    ["224.0.0.1", "a multicast address"],
    ["ff02::1", "a multicast address"],
    ["255.255.255.255", "a reserved address"],
    ["example.com", "not an IP address"],
    ["64:ff9b::7f00:1", "a loopback address (127.0.0.1) embedded in a NAT64 address"],
    ["64:ff9b::127.0.0.1", "a loopback address (127.0.0.1) embedded in a NAT64 address"],
    ["64:ff9b::10.0.0.1", "a private address (10.0.0.1) embedded in a NAT64 address"],
    ["64:ff9b::a9fe:a9fe", "a link-local address (169.254.169.254) embedded in a NAT64 address"],
    ["64:ff9b::", "an unspecified address (0.0.0.0) embedded in a NAT64 address"],
    ["64:ff9b:1::808:808", "a local-use NAT64 address"],
    ["2002:7f00:1::", "a loopback address (127.0.0.1) embedded in a 6to4 address"],
    ["2002:c0a8:101::1", "a private address (192.168.1.1) embedded in a 6to4 address"],
    ["2002:a9fe:a9fe:1:2:3:4:5", "a link-local address (169.254.169.254) embedded in a 6to4 address"],
    ["2002:6440:1::", "a carrier-grade NAT address (100.64.0.1) embedded in a 6to4 address"],
    ["::ffff:0:127.0.0.1", "a loopback address (127.0.0.1) embedded in an IPv4-translated address"],
    ["::ffff:0:a00:1", "a private address (10.0.0.1) embedded in an IPv4-translated address"],
    ["2001:0:4136:e378:8000:63bf:80ff:fffe", "a loopback address (127.0.0.1) embedded in a Teredo address"],
    ["64:FF9B::7F00:1%eth0", "a loopback address (127.0.0.1) embedded in a NAT64 address"],
  ])("refuses %s as %s", (address, kind) => {
    expect(unsafeAddressKind(address)).toBe(kind);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "172.15.255.255",
    "100.128.0.1",
    "::ffff:8.8.8.8",
    "2001:4860:4860::8888",
    "64:ff9b::808:808",
    "64:ff9b::8.8.8.8",
    "2002:808:808::1",
    "::ffff:0:8.8.8.8",
    "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
  ])("accepts the public address %s", (address) => {
    expect(unsafeAddressKind(address)).toBeUndefined();
  });
});

describe("ipv6Bytes", () => {
  it.each([
    ["::", "00000000000000000000000000000000"],
    ["::1", "00000000000000000000000000000001"],
    ["64:ff9b::7f00:1", "0064ff9b00000000000000007f000001"],
    ["64:ff9b::127.0.0.1", "0064ff9b00000000000000007f000001"],
    ["2002:a00:1::", "20020a00000100000000000000000000"],
    ["1:2:3:4:5:6:7:8", "00010002000300040005000600070008"],
    ["fe80::1%eth0", "fe800000000000000000000000000001"],
  ])("expands %s to its 16 bytes", (address, hex) => {
    expect(Buffer.from(ipv6Bytes(address) ?? []).toString("hex")).toBe(hex);
  });

  it("returns undefined for what is not an IPv6 literal", () => {
    expect(ipv6Bytes("127.0.0.1")).toBeUndefined();
    expect(ipv6Bytes("example.com")).toBeUndefined();
  });
});
