import { type ChildProcess, fork } from "node:child_process";
import { createInterface } from "node:readline";
import type { ChildOptions } from "./child.js";
import type { ChildEntry } from "./child-entry.js";
import type { ChildMessage, ParentMessage } from "./protocol.js";

export type ReadyMessage = Extract<ChildMessage, { type: "ready" }>;

/** The child could not set up llama.cpp at all (no usable binary): restarting will not help. */
export class RunnerFatalError extends Error {
  override readonly name = "RunnerFatalError";
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The child's last stderr lines: where llama.cpp's own assertion messages end up. */
  stderrTail: string[];
}

export interface RunnerProcessHandlers {
  onMessage(message: ChildMessage): void;
  onExit(exit: ChildExit): void;
  onOutput(line: string): void;
}

const STDERR_TAIL_LINES = 8;
const STDERR_DRAIN_MS = 50;

/** One runner child: fork, IPC in both directions, and its exit. Restarting is the supervisor's job. */
export class RunnerProcess {
  readonly ready: Promise<ReadyMessage>;
  private readonly child: ChildProcess;
  private readonly stderrTail: string[] = [];
  private exited = false;

  constructor(
    entry: ChildEntry,
    options: ChildOptions,
    handlers: RunnerProcessHandlers,
    startTimeoutMs: number,
  ) {
    this.child = fork(entry.file, [JSON.stringify(options)], {
      execArgv: entry.execArgv,
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "json",
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on("line", (line) => {
        if (stream === this.child.stderr) {
          this.stderrTail.push(line);
          if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
        }
        handlers.onOutput(line);
      });
    }

    this.ready = new Promise<ReadyMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`runner did not start within ${startTimeoutMs} ms`));
        this.kill();
      }, startTimeoutMs);
      timer.unref();
      const settle = () => clearTimeout(timer);
      this.child.on("message", (message: ChildMessage) => {
        if (message.type === "ready") {
          settle();
          resolve(message);
        } else if (message.type === "fatal") {
          settle();
          reject(new RunnerFatalError(message.message));
        }
        handlers.onMessage(message);
      });
      this.child.on("error", (error) => {
        settle();
        reject(error);
      });
      this.child.on("exit", (code, signal) => {
        settle();
        this.exited = true;
        reject(new Error(`runner exited during start (${describeExit(code, signal)})`));
        // stderr may still hold llama.cpp's last words; "close" waits for them, but not for long:
        // a grandchild that inherited the pipe (tsx's esbuild service) can keep it open.
        let reported = false;
        let drainTimer: NodeJS.Timeout | undefined;
        const report = () => {
          if (reported) return;
          reported = true;
          clearTimeout(drainTimer);
          handlers.onExit({ code, signal, stderrTail: [...this.stderrTail] });
        };
        drainTimer = setTimeout(report, STDERR_DRAIN_MS);
        this.child.once("close", report);
      });
    });
    // Start failures are reported through onExit; nobody may be awaiting `ready` yet.
    this.ready.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** False when the child is gone: the caller fails the request instead of waiting forever. */
  send(message: ParentMessage): boolean {
    if (this.exited || !this.child.connected) return false;
    this.child.send(message);
    return true;
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (!this.exited) this.child.kill(signal);
  }

  /** Asks the child to go (it exits when the IPC channel closes), killing it if it does not in time. */
  async stop(graceMs: number): Promise<void> {
    if (this.exited) return;
    const closed = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    if (this.child.connected) this.child.disconnect();
    // Not unref'd: a gateway shutting down waits for its child rather than leaving it behind.
    const timer = setTimeout(() => this.kill(), graceMs);
    await closed;
    clearTimeout(timer);
  }
}

export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `signal ${signal}`;
  if (code === 134) return "exit 134, an abort inside llama.cpp";
  return `exit ${code}`;
}
