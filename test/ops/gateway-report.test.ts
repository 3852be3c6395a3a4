// The health report from the agent's command line (`clawdinator run` reading a pipe, in this
// process, with credentials from the environment it is given) to s3rver: the gateway reports
// connected once it serves and stopped at exit, and the configured secrets loaded in its memory
// never reach the report.
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { parseStatus, statusKey } from "../../agent/ops/status.ts";
import { openS3Store, type ObjectStore } from "../../agent/ops/store.ts";
import { runCliInProcess, withTempDir } from "../helpers/cli.ts";
import { startTempS3, type S3Fake } from "../helpers/s3.ts";

const BUCKET = "clawdinator-bootstrap-gateway";
const OPENAI_KEY = "sk-proj-gatewayreportsecret0123456789abcdefABCDEF";

let s3: S3Fake;
let store: ObjectStore;

describe("the gateway health report", () => {
  before(async () => {
    s3 = await startTempS3([BUCKET]);
    store = await openS3Store({ bucket: BUCKET, region: "eu-central-1", endpoint: s3.endpoint, credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
  });
  after(async () => {
    store.close();
    await s3.close();
  });

  it("clawdinator run publishes its gateway state to status/<instance>.json, and no secret", async () => {
    await withTempDir(async (dir) => {
      await mkdir(path.join(dir, "secrets"));
      await writeFile(path.join(dir, "secrets", "openai"), `${OPENAI_KEY}\n`, { mode: 0o400 });
      const config = {
        instance: "CLAWDINATOR-4",
        memoryDir: path.join(dir, "memory"),
        openaiApiKeyFile: path.join(dir, "secrets", "openai"),
        status: { bucket: BUCKET, region: "eu-central-1", endpoint: s3.endpoint, factsDir: path.join(dir, "status") },
      };
      await writeFile(path.join(dir, "config.json"), JSON.stringify(config));
      const result = await runCliInProcess(["run", "--config", path.join(dir, "config.json")], { input: "help\n", env: { ...s3.env }, timeoutMs: 60_000 });
      assert.equal(result.code, 0, result.stderr);
      const text = await store.get(statusKey("CLAWDINATOR-4"));
      assert.ok(text, "the report was published");
      const status = parseStatus("report", text);
      assert.equal(status.gateway?.state, "stopped", "the last report at exit");
      assert.equal(status.gateway?.transport, "shell");
      assert.ok(!text.includes(OPENAI_KEY), "the loaded secret never reaches the report");
      const local = await readFile(path.join(dir, "status", "gateway.json"), "utf8");
      assert.ok(!local.includes(OPENAI_KEY));
    });
  });
});
