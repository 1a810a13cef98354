import { BlockList, isIP } from "node:net";

/**
 * Address ranges a webhook must not reach unless private destinations are allowed: the worker usually runs next to
 * the coordinator, Postgres, Kafka and a cloud metadata endpoint (169.254.169.254), and a webhook URL is user input.
 *
 * Order matters only for the wording of the refusal (`::1` is named loopback, not "IPv4-compatible").
 * `BlockList` matches IPv4 rules against IPv4-mapped IPv6 addresses too (`::ffff:127.0.0.1`, `::ffff:7f00:1`).
 */
const RANGES: ReadonlyArray<{ kind: string; v4?: Array<[string, number]>; v6?: Array<[string, number]> }> = [
  { kind: "a loopback address", v4: [["127.0.0.0", 8]], v6: [["::1", 128]] },
  { kind: "an unspecified address", v4: [["0.0.0.0", 8]], v6: [["::", 128]] },
  {
    kind: "a private address",
    v4: [
      ["10.0.0.0", 8],
      ["172.16.0.0", 12],
      ["192.168.0.0", 16],
    ],
    // fec0::/10 (site-local) is deprecated but still routed as private by some stacks.
    v6: [
      ["fc00::", 7],
      ["fec0::", 10],
    ],
  },
  { kind: "a link-local address", v4: [["169.254.0.0", 16]], v6: [["fe80::", 10]] },
  { kind: "a carrier-grade NAT address", v4: [["100.64.0.0", 10]] },
  { kind: "a multicast address", v4: [["224.0.0.0", 4]], v6: [["ff00::", 8]] },
  { kind: "a reserved address", v4: [["240.0.0.0", 4]] },
  // ::a.b.c.d (deprecated IPv4-compatible form): no public host lives there; refusing it closes an encoding trick.
  { kind: "an IPv4-compatible IPv6 address", v6: [["::", 96]] },
];

const LISTS = RANGES.map(({ kind, v4 = [], v6 = [] }) => {
  const list = new BlockList();
  for (const [net, prefix] of v4) list.addSubnet(net, prefix, "ipv4");
  for (const [net, prefix] of v6) list.addSubnet(net, prefix, "ipv6");
  return { kind, list };
});

/**
 * Why `address` (an IP literal) is not a safe webhook destination, as a phrase ("a loopback address"), or
 * undefined when it is a public address. Anything that is not an IP literal is refused as "not an IP address".
 */
export function unsafeAddressKind(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return "not an IP address";
  const type = family === 4 ? "ipv4" : "ipv6";
  for (const { kind, list } of LISTS) {
    if (list.check(address, type)) return kind;
  }
  return undefined;
}
