/**
 * The TCP addresses a process listens on, from /proc (Linux only): its socket inodes from
 * /proc/PID/fd, matched against the LISTEN rows of /proc/PID/net/tcp and tcp6. The bench prints them
 * to show that every server it starts, the peer included, is reachable on 127.0.0.1 only.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** st column of /proc/net/tcp: 0A is TCP_LISTEN. */
const LISTEN = "0A";

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode !== undefined) inodes.add(inode);
    } catch {
      // The descriptor closed between the listing and the read.
    }
  }
  return inodes;
}

/** The kernel prints an address as 32-bit words in host (little-endian) order. */
function decodeHost(hex: string): string {
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    for (let byte = 6; byte >= 0; byte -= 2)
      bytes.push(Number.parseInt(hex.slice(word + byte, word + byte + 2), 16));
  }
  if (bytes.length === 4) return bytes.join(".");
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return `[::ffff:${bytes.slice(12).join(".")}]`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return `[${groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::")}]`;
}

/** E.g. ["127.0.0.1:40123"]; a process listening on every interface shows "0.0.0.0:..." or "[::]:...". */
export function listeningAddresses(pid: number | undefined): string[] {
  if (pid === undefined) return [];
  try {
    const inodes = socketInodes(pid);
    const found: string[] = [];
    for (const table of ["tcp", "tcp6"]) {
      const rows = readFileSync(`/proc/${pid}/net/${table}`, "utf8").trim().split("\n").slice(1);
      for (const row of rows) {
        const cols = row.trim().split(/\s+/);
        const [hostHex, portHex] = (cols[1] ?? "").split(":");
        if (cols[3] !== LISTEN || !inodes.has(cols[9] ?? "") || hostHex === undefined) continue;
        found.push(`${decodeHost(hostHex)}:${Number.parseInt(portHex ?? "0", 16)}`);
      }
    }
    return found.sort();
  } catch {
    return [];
  }
}

/** True when there is at least one listener and every one is on 127.0.0.0/8. */
export function loopbackOnly(addresses: readonly string[]): boolean {
  return addresses.length > 0 && addresses.every((a) => a.startsWith("127.") || a.startsWith("[::ffff:127."));
}
