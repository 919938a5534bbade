import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NODE_FLAGS } from "../../host/runtime.js";
import { deploymentPath, REPO, readText } from "./support.js";

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Dockerfile syntax: comments dropped, backslash continuations joined, split into stages. */
function parseContainerfile(text: string): { args: Instruction[]; stages: Stage[] } {
  const logical: string[] = [];
  let current = "";
  for (const raw of text.split("\n")) {
    if (/^\s*#/.test(raw)) continue;
    const continued = raw.endsWith("\\");
    current += `${continued ? raw.slice(0, -1) : raw} `;
    if (!continued) {
      if (current.trim() !== "") logical.push(current.trim());
      current = "";
    }
  }
  const args: Instruction[] = [];
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = "", rest = ""] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: rest.trim() };
    if (instruction.keyword === "FROM") {
      const [, from = "", name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args) ?? [];
      stages.push({ from, name, instructions: [] });
    } else if (stages.length === 0) {
      args.push(instruction);
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { args, stages };
}

function find(stage: Stage | undefined, keyword: string): Instruction[] {
  return (stage?.instructions ?? []).filter((i) => i.keyword === keyword);
}

const { args, stages } = parseContainerfile(readText(deploymentPath("container", "Containerfile")));
const build = stages.find((s) => s.name === "build");
const runtime = stages.at(-1);
const ignored = readText(join(REPO, ".dockerignore"))
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line !== "" && !line.startsWith("#"));

describe("deployment/container/Containerfile", () => {
  it("has a named build stage and a runtime stage on the same base image", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build).toBeDefined();
    expect(runtime?.name).toBe("runtime");
    expect(runtime?.from).toBe(build?.from);
    const base = args.find((a) => a.keyword === "ARG" && a.args.startsWith("NODE_IMAGE="));
    expect(base?.args).toMatch(/^NODE_IMAGE=node:(2[0-9])-bookworm-slim$/);
    expect(Number(/node:(\d+)/.exec(base?.args ?? "")?.[1])).toBeGreaterThanOrEqual(20);
  });

  it("builds with the toolchain the SQLite binding needs and prunes dev dependencies", () => {
    const runs = find(build, "RUN").map((i) => i.args);
    expect(runs.some((r) => /apt-get install .*python3 .*make .*g\+\+/.test(r))).toBe(true);
    expect(runs.some((r) => r.includes("npm install") && r.includes("npm prune --omit=dev"))).toBe(true);
  });

  it("copies only paths that exist in the repository and that .dockerignore lets through", () => {
    for (const copy of find(build, "COPY")) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) {
        expect(existsSync(join(REPO, source)), source).toBe(true);
        expect(ignored, source).not.toContain(source);
      }
    }
  });

  it("takes from the build stage what npm install builds there", () => {
    const copied = find(runtime, "COPY").map((i) => i.args);
    const asconfig = JSON.parse(readText(join(REPO, "asconfig.json"))) as {
      targets: { release: { outFile: string } };
    };
    const tsconfig = JSON.parse(readText(join(REPO, "tsconfig.json"))) as {
      compilerOptions: { outDir: string };
    };
    for (const path of [
      asconfig.targets.release.outFile,
      tsconfig.compilerOptions.outDir,
      "node_modules",
      "models",
      "package.json",
    ]) {
      expect(
        copied.some((c) => c.startsWith(`--from=build /src/${path} `)),
        path,
      ).toBe(true);
    }
  });

  it("runs as a numeric non-root user", () => {
    const user = find(runtime, "USER").at(-1)?.args ?? "";
    const [uid, gid] = user.split(":");
    expect(Number(uid)).toBeGreaterThan(0);
    expect(Number(gid)).toBeGreaterThan(0);
  });

  it("checks liveness on /health, exposes 8080 and keeps the data directory in a volume", () => {
    const health = find(runtime, "HEALTHCHECK").at(-1)?.args ?? "";
    expect(health).toMatch(/--interval=\d+s/);
    expect(health).toContain("/health");
    expect(find(runtime, "EXPOSE").map((i) => i.args)).toContain("8080");
    const env = find(runtime, "ENV")
      .map((i) => i.args)
      .join(" ");
    expect(env).toContain("GATEWAY_DATA_DIR=/var/lib/edge-gateway");
    expect(env).toContain("GATEWAY_PORT=8080");
    expect(find(runtime, "VOLUME").map((i) => i.args)).toContain('["/var/lib/edge-gateway"]');
  });

  it("starts the CLI package.json names, with the deployed node flags and serve", () => {
    const pkg = JSON.parse(readText(join(REPO, "package.json"))) as { bin: Record<string, string> };
    const flags = NODE_FLAGS.map((f) => `"${f}", `).join("");
    expect(find(runtime, "ENTRYPOINT").at(-1)?.args).toBe(
      `["node", ${flags}"/app/${pkg.bin["edge-gateway"]}"]`,
    );
    expect(find(runtime, "CMD").at(-1)?.args).toBe('["serve"]');
  });
});

describe(".dockerignore", () => {
  it("keeps build outputs, local state, git and model files out of the build context", () => {
    for (const pattern of ["node_modules", "dist", "build", "data", ".git", "models/tiny", "**/*.gguf"]) {
      expect(ignored).toContain(pattern);
    }
  });
});
