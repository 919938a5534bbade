import type { FC } from "hono/jsx";
import type { RecentDecision, RecentRejection } from "../metrics/recent.js";

/** Everything the status page shows, read at request time. */
export interface StatusSnapshot {
  version: string;
  nowMs: number;
  startedAtMs: number;
  ready: boolean;
  cloud: { target: string; reachable: boolean } | null;
  targets: {
    id: string;
    kind: string;
    circuit: string;
    latencyMs: number | undefined;
    errorRate: number;
    inflight: number;
  }[];
  runner: { status: string; restarts: number; pid?: number; failure?: string } | null;
  models: { id: string; state: string; error?: string }[];
  queue: { byStatus: Record<string, number>; oldestActiveAtMs: number | undefined } | null;
  decisions: RecentDecision[];
  rejections: RecentRejection[];
  rejectionTotals: { tier: string; limit: string; count: number }[];
  mcp:
    | { name: string; transport: string; status: string; tools: number; reconnects: number; error?: string }[]
    | null;
}

/** Seconds between the page's own reloads. */
export const REFRESH_SECONDS = 5;

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1b1f24;background:#fafbfc}
h1{font-size:1.3rem;margin:0 0 .2rem}h2{font-size:1rem;margin:1.4rem 0 .4rem}
table{border-collapse:collapse;min-width:24rem}td,th{padding:.25rem .7rem;border-bottom:1px solid #d8dee4;text-align:left}
th{background:#eef1f4;font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1a7f37}.warn{color:#9a6700}.bad{color:#cf222e}.muted{color:#57606a}
.badge{display:inline-block;padding:0 .45rem;border-radius:.6rem;font-size:.85em;border:1px solid currentColor}
section{display:inline-block;vertical-align:top;margin-right:2rem}
`;

function ago(nowMs: number, atMs: number | undefined): string {
  if (atMs === undefined) return "—";
  const s = Math.max(0, Math.round((nowMs - atMs) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min ago`;
}

const GOOD = new Set(["closed", "up", "ready", "loaded", "done", "ok"]);
const BAD = new Set(["open", "down", "failed", "dead", "refused", "crashed", "error"]);

const Badge: FC<{ value: string }> = ({ value }) => (
  <span class={`badge ${GOOD.has(value) ? "ok" : BAD.has(value) ? "bad" : "warn"}`} data-value={value}>
    {value}
  </span>
);

const Empty: FC<{ cols: number; text: string }> = ({ cols, text }) => (
  <tr>
    <td colspan={cols} class="muted">
      {text}
    </td>
  </tr>
);

export const StatusPage: FC<{ s: StatusSnapshot }> = ({ s }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta http-equiv="refresh" content={String(REFRESH_SECONDS)} />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>edge-gateway status</title>
      <style>{STYLE}</style>
    </head>
    <body>
      <h1>
        edge-gateway <span class="muted">{s.version}</span> <Badge value={s.ready ? "ready" : "not ready"} />
      </h1>
      <div class="muted">
        up {ago(s.nowMs, s.startedAtMs).replace(" ago", "")} · cloud{" "}
        {s.cloud ? <Badge value={s.cloud.reachable ? "up" : "down"} /> : "not configured"} · refreshes every{" "}
        {REFRESH_SECONDS} s · {new Date(s.nowMs).toISOString()}
      </div>

      <section id="targets">
        <h2>Targets</h2>
        <table>
          <thead>
            <tr>
              <th>target</th>
              <th>circuit</th>
              <th class="num">latency</th>
              <th class="num">errors</th>
              <th class="num">in flight</th>
            </tr>
          </thead>
          <tbody>
            {s.targets.length === 0 ? <Empty cols={5} text="no targets" /> : null}
            {s.targets.map((t) => (
              <tr data-target={t.id}>
                <td>{t.id}</td>
                <td>
                  <Badge value={t.circuit} />
                </td>
                <td class="num">{t.latencyMs === undefined ? "—" : `${t.latencyMs.toFixed(1)} ms`}</td>
                <td class="num">{`${(t.errorRate * 100).toFixed(0)} %`}</td>
                <td class="num">{t.inflight}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section id="models">
        <h2>Local models</h2>
        <table>
          <thead>
            <tr>
              <th>model</th>
              <th>state</th>
            </tr>
          </thead>
          <tbody>
            {s.models.length === 0 ? <Empty cols={2} text="no built-in models" /> : null}
            {s.models.map((m) => (
              <tr data-model={m.id}>
                <td>{m.id}</td>
                <td>
                  <Badge value={m.state} /> {m.error ? <span class="muted">{m.error}</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {s.runner ? (
          <div class="muted" id="runner">
            runner <Badge value={s.runner.status} /> · {s.runner.restarts} restarts
            {s.runner.pid === undefined ? "" : ` · pid ${s.runner.pid}`}
            {s.runner.failure ? ` · ${s.runner.failure}` : ""}
          </div>
        ) : null}
      </section>

      <section id="queue">
        <h2>Offline queue</h2>
        {s.queue ? (
          <table>
            <tbody>
              {Object.entries(s.queue.byStatus).map(([status, n]) => (
                <tr data-queue-status={status}>
                  <td>{status}</td>
                  <td class="num">{n}</td>
                </tr>
              ))}
              <tr id="queue-oldest">
                <td>oldest undelivered</td>
                <td class="num">{ago(s.nowMs, s.queue.oldestActiveAtMs)}</td>
              </tr>
            </tbody>
          </table>
        ) : (
          <p class="bad">The queue database is not open (see the log and /ready).</p>
        )}
      </section>

      <section id="mcp">
        <h2>MCP upstreams</h2>
        <table>
          <thead>
            <tr>
              <th>upstream</th>
              <th>transport</th>
              <th>status</th>
              <th class="num">tools</th>
              <th class="num">reconnects</th>
            </tr>
          </thead>
          <tbody>
            {!s.mcp || s.mcp.length === 0 ? <Empty cols={5} text="no MCP upstreams configured" /> : null}
            {(s.mcp ?? []).map((u) => (
              <tr data-upstream={u.name}>
                <td>{u.name}</td>
                <td>{u.transport}</td>
                <td>
                  <Badge value={u.status} /> {u.error ? <span class="muted">{u.error}</span> : null}
                </td>
                <td class="num">{u.tools}</td>
                <td class="num">{u.reconnects}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section id="decisions">
        <h2>Recent routing decisions</h2>
        <table>
          <thead>
            <tr>
              <th>when</th>
              <th>target</th>
              <th>reason</th>
            </tr>
          </thead>
          <tbody>
            {s.decisions.length === 0 ? <Empty cols={3} text="none yet" /> : null}
            {s.decisions.map((d) => (
              <tr>
                <td class="muted">{ago(s.nowMs, d.atMs)}</td>
                <td>{d.target}</td>
                <td>{d.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section id="ratelimits">
        <h2>Rate-limit rejections</h2>
        <table>
          <thead>
            <tr>
              <th>tier</th>
              <th>limit</th>
              <th class="num">since start</th>
              <th>last</th>
            </tr>
          </thead>
          <tbody>
            {s.rejectionTotals.length === 0 ? <Empty cols={4} text="none" /> : null}
            {s.rejectionTotals.map((r) => (
              <tr data-rejections={`${r.tier}/${r.limit}`}>
                <td>{r.tier}</td>
                <td>{r.limit}</td>
                <td class="num">{r.count}</td>
                <td class="muted">
                  {ago(s.nowMs, s.rejections.find((x) => x.tier === r.tier && x.limit === r.limit)?.atMs)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </body>
  </html>
);
