import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { NODE_FLAGS } from "../../host/runtime.js";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface CliProcess {
  child: ChildProcess;
  /** Parsed JSON log lines from stdout, in order. */
  lines: Record<string, unknown>[];
  stderr: () => string;
  /** Resolves with the first log line matching, or rejects after timeoutMs or on exit. */
  waitForLine(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or the signal name), rejects after timeoutMs. */
  exited(timeoutMs?: number): Promise<number | string>;
}

/** The environment of this process without GATEWAY_* variables, so a developer's shell cannot leak in. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith("GATEWAY_")) env[name] = value;
  return { ...env, ...extra };
}

/** Runs host/cli.ts through tsx, as `npm start` runs the built file. */
export function spawnCli(args: string[], env: Record<string, string>): CliProcess {
  // With the node flags it is deployed with, so every test of the real process runs in the bounded heap.
  const child = spawn(process.execPath, [...NODE_FLAGS, "--import", "tsx", "host/cli.ts", ...args], {
    cwd: REPO_ROOT,
    env: cleanEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let stderrText = "";
  child.stderr?.setEncoding("utf8").on("data", (text: string) => {
    stderrText += text;
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      lines.push({ text: line });
    }
    for (const wake of waiters) wake();
  });
  const exit = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
  });
  let exitedWith: number | string | undefined;
  exit.then((value) => {
    exitedWith = value;
    for (const wake of waiters) wake();
  });

  return {
    child,
    lines,
    stderr: () => stderrText,
    waitForLine(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderrText}`));
        }, timeoutMs);
        function check(): void {
          const found = lines.find(match);
          if (found !== undefined || exitedWith !== undefined) {
            clearTimeout(timer);
            waiters.delete(check);
            if (found !== undefined) resolve(found);
            else reject(new Error(`process exited (${exitedWith}) first; stderr: ${stderrText}`));
          }
        }
        waiters.add(check);
        check();
      });
    },
    exited(timeoutMs = 20_000) {
      return Promise.race([
        exit,
        new Promise<never>((_resolve, reject) => {
          setTimeout(
            () => reject(new Error(`process still running after ${timeoutMs} ms`)),
            timeoutMs,
          ).unref();
        }),
      ]);
    },
  };
}
