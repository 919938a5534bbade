// Proves each property test can fail: builds deliberately broken variants of the core in a temp
// directory (the tree is never touched), runs the property tests against each with CORE_WASM, and
// reports which property caught it. Run with `npm run check:mutants`; exits 1 if a mutant survives.

import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

interface Mutant {
  name: string;
  file: string;
  from: string;
  to: string;
}

const MUTANTS: Mutant[] = [
  {
    name: "limiter: full table rescanned on every arrival",
    file: "rate-limiter.ts",
    from: "if (nowMs >= sweepAfterMs) sweep(nowMs);",
    to: "sweep(nowMs);",
  },
  {
    name: "limiter: refill ignores the burst",
    file: "rate-limiter.ts",
    from: "store<f64>(e, v < burst ? v : burst, E_REQ);",
    to: "store<f64>(e, v, E_REQ);",
  },
  {
    name: "limiter: token floor lost",
    file: "rate-limiter.ts",
    from: "left > -tBurst ? left : -tBurst",
    to: "left",
  },
  {
    name: "health: circuit opens one failure late",
    file: "health.ts",
    from: "if (fails >= failureThreshold ||",
    to: "if (fails > failureThreshold ||",
  },
  {
    name: "router: ties broken by the higher index",
    file: "router.ts",
    from: "load<f64>(SCORES + <usize>(i - 1) * 8) > s",
    to: "load<f64>(SCORES + <usize>(i - 1) * 8) >= s",
  },
  {
    name: "retry: 425 treated as permanent",
    file: "retry.ts",
    from: "status == 408 || status == 425 ||",
    to: "status == 408 ||",
  },
];

const root = process.cwd();
let survivors = 0;
for (const m of MUTANTS) {
  const dir = mkdtempSync(join(tmpdir(), "core-mutant-"));
  try {
    cpSync(join(root, "assembly"), join(dir, "assembly"), { recursive: true });
    const path = join(dir, "assembly", m.file);
    const src = readFileSync(path, "utf8");
    if (!src.includes(m.from)) throw new Error(`${m.name}: pattern not found in ${m.file}`);
    writeFileSync(path, src.replace(m.from, m.to));
    const out = join(dir, "core.wasm");
    execFileSync(
      join(root, "node_modules/.bin/asc"),
      [
        join(dir, "assembly/index.ts"),
        "-O3",
        "--runtime",
        "stub",
        "--noAssert",
        "--use",
        "abort=assembly/abort/coreAbort",
        "-o",
        out,
      ],
      { cwd: dir, stdio: "pipe" },
    );
    const run = spawnSync(join(root, "node_modules/.bin/vitest"), ["run", "test/core/property.test.ts"], {
      cwd: root,
      env: { ...process.env, CORE_WASM: out, NO_COLOR: "1" },
      encoding: "utf8",
    });
    // vitest names each failed test on a line "FAIL  <file> > <suite> > <property>: <details>".
    const names = [...(run.stdout + run.stderr).matchAll(/FAIL .*> ([^>]+?):/g)].map((x) => x[1]);
    const failed = [...new Set(names)];
    const caught = run.status !== 0;
    if (!caught) survivors++;
    console.log(
      `${caught ? "caught  " : "SURVIVED"}  ${m.name}${failed.length ? `  <- ${failed.join("; ")}` : ""}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`${MUTANTS.length - survivors} caught, ${survivors} survived`);
process.exit(survivors === 0 ? 0 : 1);
