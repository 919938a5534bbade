/**
 * One upstream call's abort signal: the caller's signal (client gone) combined with the call's total
 * deadline. A controller with one listener and one timer, removed in `dispose()`, rather than
 * `AbortSignal.any([caller, AbortSignal.timeout(ms)])`: we must know which of the two fired (the
 * caller's abort is "aborted", the deadline is the target's "timeout"), and the timer must not outlive
 * the call - at a few thousand calls a second a 300 s timer per finished call adds up.
 */
export interface CallScope {
  readonly signal: AbortSignal;
  /** Which side aborted `signal`, if it has been aborted. */
  readonly abortedBy: "caller" | "deadline" | undefined;
  /** Stops the deadline and detaches from the caller's signal. Safe to call more than once. */
  dispose(): void;
}

export function openCallScope(callerSignal: AbortSignal, deadlineMs: number): CallScope {
  const controller = new AbortController();
  let abortedBy: CallScope["abortedBy"];
  let disposed = false;

  const onCallerAbort = () => {
    abortedBy ??= "caller";
    controller.abort(callerSignal.reason);
  };
  const timer = setTimeout(() => {
    abortedBy ??= "deadline";
    controller.abort(new DOMException(`total deadline of ${deadlineMs} ms passed`, "TimeoutError"));
  }, deadlineMs);
  // A pending call must not keep a shutting-down process alive; the pool's sockets decide that.
  timer.unref();

  if (callerSignal.aborted) onCallerAbort();
  else callerSignal.addEventListener("abort", onCallerAbort, { once: true });

  return {
    signal: controller.signal,
    get abortedBy() {
      return abortedBy;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      clearTimeout(timer);
      callerSignal.removeEventListener("abort", onCallerAbort);
    },
  };
}
