import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createKeyring } from "../../host/auth/index.js";
import { runCli } from "../../host/cli-run.js";
import { gatewayConfigSchema } from "../../host/config/index.js";

async function run(argv: string[]) {
  let out = "";
  let err = "";
  const code = await runCli({ argv, env: {}, stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

describe("edge-gateway keys create", () => {
  it("prints a new key once and a config block whose hash authenticates it", async () => {
    const { code, out } = await run([
      "keys",
      "create",
      "--id",
      "pi-kitchen",
      "--tier",
      "free",
      "--scopes",
      "chat,queue",
    ]);
    expect(code).toBe(0);
    const key = out.match(/^\s+(egw_[\w-]+)$/m)?.[1];
    expect(key).toBeDefined();
    const block = out.slice(out.indexOf("auth:"));
    const config = gatewayConfigSchema.parse({
      auth: parse(block).auth,
      core: { limiter: { tiers: { default: {}, free: {} } } },
    });
    const keyring = createKeyring({ keys: config.auth.keys });
    const record = keyring.authenticate(key as string);
    expect(record).toMatchObject({ id: "pi-kitchen", tier: "free" });
    expect([...(record?.scopes ?? [])].sort()).toEqual(["chat", "queue"]);
    expect(out.split(key as string)).toHaveLength(2);
  });

  it("refuses an unknown scope or flag with exit code 2", async () => {
    expect((await run(["keys", "create", "--scopes", "chat,root"])).code).toBe(2);
    expect((await run(["keys", "create", "--bogus"])).code).toBe(2);
    expect((await run(["keys", "rotate"])).code).toBe(2);
    expect((await run(["keys"])).code).toBe(0);
  });
});
