import { isIPv4, isIPv6 } from "node:net";

/**
 * True when `host` (a bind address or a Host header value, port allowed) can only be reached from
 * this machine: 127.0.0.0/8, ::1 (also written in full or IPv4-mapped) and `localhost`. The WHATWG
 * URL parser normalises the spellings (`[0:0:0:0:0:0:0:1]`, `127.1`) the same way the resolver would.
 */
export function isLoopbackHost(host: string): boolean {
  if (typeof host !== "string") return false;
  let h = host.trim().toLowerCase();
  // Anything that would make the URL parser read user info, a path or a query is not a host.
  if (h === "" || /[\s@/?#\\]/.test(h)) return false;
  if (isIPv6(h)) h = `[${h}]`;
  let hostname: string;
  try {
    hostname = new URL(`http://${h}`).hostname;
  } catch {
    return false;
  }
  if (hostname === "localhost" || hostname === "localhost.") return true;
  if (hostname.startsWith("["))
    return hostname === "[::1]" || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(hostname);
  return isIPv4(hostname) && hostname.startsWith("127.");
}
