/** Manifests as runner specs and router targets, and the core's loaded flags kept in step. */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CAPABILITIES, TASK_CLASSES } from "../../host/config/targets.js";
import { TargetKind } from "../../host/core/index.js";
import {
  createLocalModels,
  createLocalModelTargets,
  runnerModelSpecs,
  syncLoadedState,
} from "../../host/models/local-targets.js";
import { type LoadedManifest, loadManifests, parseManifest } from "../../host/models/manifest.js";
import { RunnerSupervisor } from "../../host/runner/supervisor.js";
import { silentLogger, TINY_MODEL } from "./helpers.js";

const MODELS_DIR = fileURLToPath(new URL("../../models/", import.meta.url));

function manifest(yaml: string, path = "/models/m.yaml"): LoadedManifest {
  const result = parseManifest(yaml, path);
  if ("errors" in result) throw new Error(JSON.stringify(result.errors));
  return result.manifest;
}

const small = manifest(
  `id: small\naliases: [fast]\nfile: small.gguf\ncontextSize: 2048\nmemoryMb: 300\nsequences: 2\nthreads: 2\ntaskClasses: [chat, code]\n`,
);
const large = manifest(
  `id: large\nfile: /abs/large.gguf\ncontextSize: 8192\nmemoryMb: 900\n`,
  "/models/large.yaml",
);

describe("runnerModelSpecs", () => {
  it("resolves files, carries the manifest's figures and the queue bound", () => {
    const [spec] = runnerModelSpecs([small], { queuePerModel: 3 });
    expect(spec).toMatchObject({
      id: "small",
      path: "/models/small.gguf",
      contextTokens: 2048,
      sequences: 2,
      maxQueue: 3,
      threads: 2,
      memoryMb: 300,
      loadAtStart: true,
    });
  });

  it("loads at start only what the memory budget holds, in manifest order", () => {
    const specs = runnerModelSpecs([small, large], { memoryBudgetMb: 1000 });
    expect(specs.map((s) => s.loadAtStart)).toEqual([true, false]);
    expect(runnerModelSpecs([small, large], { loadAtStart: "none" }).map((s) => s.loadAtStart)).toEqual([
      false,
      false,
    ]);
    expect(runnerModelSpecs([small, large], { loadAtStart: ["large"] }).map((s) => s.loadAtStart)).toEqual([
      false,
      true,
    ]);
  });

  it("applies a device-wide thread count over the manifests'", () => {
    expect(runnerModelSpecs([small, large], { threads: 1 }).map((s) => s.threads)).toEqual([1, 1]);
  });
});

describe("createLocalModelTargets", () => {
  const supervisor = new RunnerSupervisor({
    models: runnerModelSpecs([small, large]),
    threads: 1,
    checkModelFile: () => [],
    logger: silentLogger,
  });

  it("builds one local target per manifest, numbered from firstIndex, plus the aliases", () => {
    const { targets, aliases } = createLocalModelTargets({
      manifests: [small, large],
      supervisor,
      firstIndex: 2,
    });
    expect(targets.map((t) => [t.index, t.id, t.kind])).toEqual([
      [2, "local/small", "local"],
      [3, "local/large", "local"],
    ]);
    expect(aliases).toEqual({ fast: "local/small" });
    const [first] = targets;
    expect(first?.models).toEqual({ "chat/completions": "small" });
    expect(first?.provider).toMatchObject({
      name: "local/small",
      kind: "local",
      endpoints: ["chat/completions"],
    });
    expect(first?.spec).toEqual({
      kind: TargetKind.Local,
      contextTokens: 2048,
      capabilities: CAPABILITIES.json,
      taskMask: (1 << TASK_CLASSES.indexOf("chat")) | (1 << TASK_CLASSES.indexOf("code")),
      memoryMb: 300,
      maxInflight: 2 + 4,
      loaded: false,
    });
  });
});

describe("syncLoadedState", () => {
  let supervisor: RunnerSupervisor;
  const tiny = manifest(`id: tiny\nfile: ${TINY_MODEL}\ncontextSize: 512\nmemoryMb: 50\nthreads: 1\n`);

  beforeAll(() => {
    supervisor = new RunnerSupervisor({
      models: runnerModelSpecs([tiny], { loadAtStart: "none" }),
      threads: 1,
      checkModelFile: () => [],
      logger: silentLogger,
      memoryBudgetMb: 200,
    });
  });
  afterAll(async () => {
    await supervisor.close();
  });

  it("marks the target loaded and the free memory as the runner loads and unloads", async () => {
    const { targets } = createLocalModelTargets({ manifests: [tiny], supervisor, firstIndex: 5 });
    const loaded: [number, boolean][] = [];
    const free: number[] = [];
    syncLoadedState(supervisor, targets, {
      setLoaded: (index, value) => loaded.push([index, value]),
      setMemoryFreeMb: (mb) => free.push(mb),
    });
    await supervisor.start();
    await supervisor.loadModel("tiny");
    await supervisor.unloadModel("tiny");
    expect(loaded).toEqual([
      [5, false],
      [5, true],
      [5, false],
    ]);
    expect(free).toEqual([200, 150, 200]);
  });
});

describe("createLocalModels", () => {
  it("gives a supervisor and targets whose providers answer through the runner", async () => {
    const tiny = manifest(`id: tiny\naliases: [demo]\nfile: ${TINY_MODEL}\ncontextSize: 512\nmemoryMb: 50\n`);
    const { supervisor, targets, aliases } = createLocalModels({
      manifests: [tiny],
      logger: silentLogger,
      threads: 1,
      memoryBudgetMb: 500,
    });
    try {
      await supervisor.start();
      expect(aliases).toEqual({ demo: "local/tiny" });
      const provider = targets[0]?.provider;
      const res = await provider?.call(
        "chat/completions",
        { model: "tiny", messages: [{ role: "user", content: "Hi" }], max_tokens: 8 },
        { signal: new AbortController().signal, requestId: "r" },
      );
      const chunks: Uint8Array[] = [];
      for await (const chunk of res?.body ?? []) chunks.push(chunk);
      const json = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      expect(json.usage.completion_tokens).toBe(8);
    } finally {
      await supervisor.close();
    }
  });
});

describe("the repository's models directory", () => {
  it("serves tiny-demo from its manifest, sha256 verified, under its id and alias", async () => {
    const { manifests, errors } = await loadManifests(MODELS_DIR);
    expect(errors).toEqual([]);
    const { supervisor, targets, aliases } = createLocalModels({ manifests, logger: silentLogger });
    try {
      await supervisor.start();
      expect(targets.map((t) => t.id)).toEqual(["local/tiny-demo"]);
      expect(aliases).toEqual({ tiny: "local/tiny-demo" });
      expect(supervisor.state().models).toMatchObject([{ id: "tiny-demo", state: "loaded" }]);
      const res = await targets[0]?.provider.call(
        "chat/completions",
        { model: "tiny-demo", messages: [{ role: "user", content: "Hello" }], max_tokens: 12, stream: true },
        { signal: new AbortController().signal, requestId: "r" },
      );
      let text = "";
      for await (const chunk of res?.body ?? []) text += Buffer.from(chunk).toString("utf8");
      expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    } finally {
      await supervisor.close();
    }
  });
});
