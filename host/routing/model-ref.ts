import { RouteFlag } from "../core/index.js";
import type { Target } from "./targets.js";

/** What the client asked for: which side, or which single target. */
export interface Selection {
  /** RouteFlag bits that force a side (RequireLocal / RequireCloud), or 0 for policy's choice. */
  sideFlags: number;
  /** Only this target may serve, when the model named one. */
  target?: Target;
}

export type SelectionResult =
  | { ok: true; selection: Selection }
  | { ok: false; field: "model" | "x-edge-route"; message: string };

const SIDE_HEADER = /^(local|cloud|auto)$/i;

/**
 * Resolves `model` (auto, local, cloud, local/<name>, cloud/<name>, or an alias of one) and the
 * `x-edge-route` header. The header wins over the model's side, so an app whose model name is
 * fixed can still be steered per request.
 */
export function resolveSelection(
  model: string | undefined,
  routeHeader: string | undefined,
  targets: readonly Target[],
  aliases: Readonly<Record<string, string>>,
): SelectionResult {
  const ref = model === undefined || model === "" ? "auto" : (aliases[model] ?? model);
  let selection: Selection;
  if (ref === "auto") selection = { sideFlags: 0 };
  else if (ref === "local") selection = { sideFlags: RouteFlag.RequireLocal };
  else if (ref === "cloud") selection = { sideFlags: RouteFlag.RequireCloud };
  else {
    const target = targets.find((t) => t.id === ref);
    if (!target) {
      return {
        ok: false,
        field: "model",
        message: `The model '${model}' does not exist on this gateway; GET /v1/models lists the ids.`,
      };
    }
    selection = {
      sideFlags: target.kind === "local" ? RouteFlag.RequireLocal : RouteFlag.RequireCloud,
      target,
    };
  }
  if (routeHeader !== undefined && routeHeader !== "") {
    if (!SIDE_HEADER.test(routeHeader)) {
      return {
        ok: false,
        field: "x-edge-route",
        message: "The x-edge-route header must be local, cloud or auto.",
      };
    }
    const side = routeHeader.toLowerCase();
    const sideFlags =
      side === "local" ? RouteFlag.RequireLocal : side === "cloud" ? RouteFlag.RequireCloud : 0;
    // A header that contradicts the named target leaves no target: the router reports it.
    selection = { ...selection, sideFlags };
  }
  return { ok: true, selection };
}
