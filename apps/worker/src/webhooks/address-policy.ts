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
  // RFC 8215 local-use NAT64 prefix: translated by a gateway of the local network only, to wherever it chooses.
  { kind: "a local-use NAT64 address", v6: [["64:ff9b:1::", 48]] },
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
  if (family === 6) {
    const embedded = embeddedIPv4(address);
    if (embedded !== undefined) {
      const kind = unsafeAddressKind(embedded.ipv4);
      if (kind !== undefined) return `${kind} (${embedded.ipv4}) embedded in ${embedded.form}`;
    }
  }
  return undefined;
}

/**
 * IPv6 forms that carry an IPv4 address a translator or relay will forward to: a webhook to
 * `64:ff9b::7f00:1` reaches 127.0.0.1 of the NAT64 gateway's network, `2002:a00:1::` goes to 10.0.0.1 through a
 * 6to4 relay. Each entry: prefix bytes, where the IPv4 address sits, and whether it is stored inverted (Teredo).
 * IPv4-mapped `::ffff:0:0/96` is not listed: `BlockList` already applies the IPv4 rules to it.
 */
const EMBEDDINGS: ReadonlyArray<{ form: string; prefix: number[]; at: number; inverted?: boolean }> = [
  // RFC 6052 well-known NAT64 prefix 64:ff9b::/96.
  { form: "a NAT64 address", prefix: [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], at: 12 },
  // RFC 3056 6to4 2002::/16: the IPv4 address is the next 32 bits.
  { form: "a 6to4 address", prefix: [0x20, 0x02], at: 2 },
  // RFC 2765 (SIIT) IPv4-translated ::ffff:0:0:0/96.
  { form: "an IPv4-translated address", prefix: [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0], at: 12 },
  // RFC 4380 Teredo 2001::/32: the client's address is the last 32 bits, bit-inverted.
  { form: "a Teredo address", prefix: [0x20, 0x01, 0x00, 0x00], at: 12, inverted: true },
];

/** The IPv4 address an IPv6 address carries in one of the `EMBEDDINGS` forms, as a dotted quad. */
export function embeddedIPv4(address: string): { form: string; ipv4: string } | undefined {
  const bytes = ipv6Bytes(address);
  if (bytes === undefined) return undefined;
  for (const { form, prefix, at, inverted } of EMBEDDINGS) {
    if (!prefix.every((byte, i) => bytes[i] === byte)) continue;
    const quad = bytes.slice(at, at + 4).map((byte) => (inverted ? byte ^ 0xff : byte));
    return { form, ipv4: quad.join(".") };
  }
  return undefined;
}

/** The 16 bytes of an IPv6 literal (`::` and a trailing dotted quad allowed, zone id ignored), or undefined. */
export function ipv6Bytes(address: string): number[] | undefined {
  const text = address.replace(/%.*$/, "");
  if (isIP(text) !== 6) return undefined;
  const toGroups = (part: string): number[] => {
    if (part === "") return [];
    const groups: number[] = [];
    for (const piece of part.split(":")) {
      if (piece.includes(".")) {
        const [a = 0, b = 0, c = 0, d = 0] = piece.split(".").map(Number);
        groups.push((a << 8) | b, (c << 8) | d);
      } else {
        groups.push(parseInt(piece, 16));
      }
    }
    return groups;
  };
  const [head = "", tail] = text.split("::");
  const left = toGroups(head);
  const right = tail === undefined ? [] : toGroups(tail);
  const groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.flatMap((group) => [group >> 8, group & 0xff]);
}
