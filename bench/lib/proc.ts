// What the bench reads about a running process from /proc (Linux): RSS, child processes, and TCP connections to a
// given port. The parsers are pure (unit-tested in proc.test.ts); the readers only fetch the text.
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

/** VmRSS of a `/proc/<pid>/status` text, in bytes. */
export function parseRssBytes(status: string): number | undefined {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/**
 * Socket inodes of established connections to `remotePort` in a `/proc/net/tcp` or `/proc/net/tcp6` text. Columns:
 * sl local_address rem_address st … inode (addresses as HEX_IP:HEX_PORT, state 01 = ESTABLISHED).
 */
export function establishedInodes(netTcp: string, remotePort: number): Set<string> {
  const inodes = new Set<string>();
  for (const line of netTcp.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const remote = cols[2] as string;
    const port = Number.parseInt(remote.slice(remote.lastIndexOf(":") + 1), 16);
    if (cols[3] === "01" && port === remotePort) inodes.add(cols[9] as string);
  }
  return inodes;
}

export function rssBytes(pid: number): number | undefined {
  try {
    return parseRssBytes(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return undefined;
  }
}

/** Direct children of a process (the CLI starts the app as its child). */
export function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
      readFileSync(`/proc/${pid}/task/${task}/children`, "utf8")
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number),
    );
  } catch {
    return [];
  }
}

/** Established TCP connections of `pid` to `remotePort`. */
export function connectionsTo(pid: number, remotePort: number): number {
  const inodes = new Set<string>();
  for (const file of ["tcp", "tcp6"]) {
    try {
      for (const inode of establishedInodes(readFileSync(`/proc/${pid}/net/${file}`, "utf8"), remotePort))
        inodes.add(inode);
    } catch {
      // no IPv6 table: fine
    }
  }
  let count = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match && inodes.has(match[1] as string)) count++;
    } catch {
      // fd closed meanwhile
    }
  }
  return count;
}
