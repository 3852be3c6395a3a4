// The agent artifact (`npm run bundle`, scripts/bundle.ts) is what an instance runs. Built once
// into a temp folder, then driven as a user would: the entry on a pipe, the operator stub, the
// workspace render; and inspected: no Pulumi, no operator code, no client library loaded for a
// plain local run (docs/ARCHITECTURE.md: a client library loads only when it is configured).
import assert from "node:assert/strict";
import { access, constants, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { bundle, BundleError, ENTRY_FILE, type BundleResult } from "../../scripts/bundle.ts";
import { ACCESS_POINT, bootWorld, FILE_SYSTEM, PLAINTEXTS } from "../boot/harness.ts";
import { logLines, ROOT, run, withTempDir, type SpawnOptions } from "../helpers/cli.ts";

const RECORDER = path.join(ROOT, "test/helpers/record-imports.ts");
const CLIENT_LIBRARIES = ["discord.js", "@discordjs", "@anthropic-ai/sdk", "@aws-sdk", "openai"];
const { version } = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as { version: string };

let dir: string;
let built: BundleResult;

/** Runs the bundled CLI under this node, from a fresh folder outside the repository. */
const runBundle = (args: readonly string[], options: SpawnOptions = {}) =>
  withTempDir((cwd) => run(process.execPath, [built.entry, ...args], { cwd, ...options }));

/** Output chunks (relative names) that hold code of the given library, from esbuild's metafile. */
function chunksOf(library: string): string[] {
  return Object.entries(built.metafile.outputs)
    .filter(([, output]) => Object.keys(output.inputs).some((input) => input.includes(`node_modules/${library}/`)))
    .map(([file]) => path.basename(file));
}

describe("npm run bundle", () => {
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "clawdinator-bundle-"));
    built = await bundle({ outDir: path.join(dir, "dist") });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  describe("the agent artifact", () => {
    it("is the entry, chunks beside it and the assets, nothing else", async () => {
      await access(built.entry, constants.X_OK);
      assert.equal(path.basename(built.entry), ENTRY_FILE);
      for (const file of built.files) assert.match(file, /^(?:[\w-]+\.mjs|(?:workspace|memory)\/[\w/.-]+\.(?:md|json))$/, file);
      for (const asset of ["workspace/SOUL.md", "workspace/IDENTITY.md", "workspace/AGENTS.md", "memory/README.md"]) {
        assert.ok(built.files.includes(asset), `${asset} missing`);
      }
      assert.deepEqual(await readdir(built.outDir), [...new Set(built.files.map((file) => file.split("/")[0]))].sort());
    });

    it("answers help and status on a pipe, with the package's version and memory seeded from its own templates", async () => {
      await withTempDir(async (cwd) => {
        const result = await run(process.execPath, [built.entry, "run"], { cwd, input: "help\nstatus\n" });
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /I am CLAWDINATOR-1\. Commands:/);
        assert.ok(result.stdout.includes(`CLAWDINATOR-1 v${version}, up `), result.stdout);
        assert.match(result.stdout, /memory\s+configured\s+hive mind at .* \(seeded \d+ templates at start\)/);
        assert.deepEqual((await readdir(path.join(cwd, ".clawdinator/memory"))).filter((f) => f.endsWith(".md")).sort(), (await readdir(path.join(ROOT, "memory"))).sort());
        assert.equal(logLines(result.stderr).at(-1)?.msg, "stopped");
      });
    });

    for (const command of ["image", "bootstrap"]) {
      it(`\`${command}\` is an operator command: the stub says where to run it and exits 2`, async () => {
        const result = await runBundle([command, "build", "--help"]);
        assert.equal(result.code, 2);
        assert.equal(result.stdout, "");
        assert.ok(result.stderr.includes(`\`clawdinator ${command}\` is an operator command`), result.stderr);
        assert.ok(result.stderr.includes(`from a checkout of the repository: npm ci && npx clawdinator ${command}`), result.stderr);
      });
    }

    it("holds no Pulumi and no operator code (infra/, providers/), by its inputs and by its text", async () => {
      const inputs = Object.keys(built.metafile.inputs);
      assert.ok(inputs.some((input) => input.startsWith("agent/")), "the metafile lists the agent's sources");
      assert.deepEqual(inputs.filter((input) => /(?:^|\/)(?:@pulumi|infra|providers)\//.test(input) || input.includes("node_modules/pulumi")), []);
      for (const file of built.files.filter((f) => f.endsWith(".mjs"))) {
        const text = await readFile(path.join(built.outDir, file), "utf8");
        assert.doesNotMatch(text, /@pulumi|["'`]pulumi["'`/]/i, `${file} mentions a Pulumi module`);
        assert.doesNotMatch(text, /\b(?:infra|providers)\/[\w./-]+\.ts\b/, `${file} names an operator source`);
      }
    });

    it("renders the workspace from its own copy", async () => {
      await withTempDir(async (out) => {
        const result = await runBundle(["workspace", "render", "--out", out]);
        assert.equal(result.code, 0, result.stderr);
        assert.ok(result.stdout.includes(`from ${path.join(built.outDir, "workspace")} into ${out}`), result.stdout);
        assert.match(await readFile(path.join(out, "IDENTITY.md"), "utf8"), /CLAWDINATOR-1/);
        assert.ok((await readFile(path.join(out, "system-prompt.txt"), "utf8")).length > 1000);
      });
    });

    // The AWS SDK, age-encryption and IMDS credentials are where a bundle breaks and sources do not
    // (a lazy import of CommonJS, a dynamic require): the boot service runs from the bundle here,
    // against the same local IMDSv2, SSM and S3 as test/boot/cli.test.ts.
    it("boots from the bundle: IMDSv2 role credentials, S3 bundle, SSM identity, age decryption, mount", async (t) => {
      const world = await bootWorld(t);
      await world.upload();
      const { settings, settingsFile, mountArgs, env } = await world.asBootUnit();
      const result = await run(process.execPath, [built.entry, "boot", "--settings", settingsFile], {
        env,
        timeoutMs: 60_000,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^CLAWDINATOR-1: 3 secret\(s\) in place, /);
      for (const [name, plain] of Object.entries(PLAINTEXTS)) assert.equal(await readFile(path.join(settings.agenixDir, name), "utf8"), plain);
      assert.deepEqual(await mountArgs(), ["-t", "efs", "-o", `tls,iam,accesspoint=${ACCESS_POINT}`, `${FILE_SYSTEM}:/`, settings.memory.mountPoint]);
    });

    describe("loads a client library's chunk only when that integration is configured", () => {
      async function chunksLoaded(env: NodeJS.ProcessEnv = {}): Promise<string[]> {
        return withTempDir(async (cwd) => {
          const record = path.join(cwd, "modules.txt");
          const result = await run(process.execPath, ["--import", RECORDER, built.entry, "run"], { cwd, input: "status\n", env: { ...env, RECORD_IMPORTS_TO: record } });
          assert.equal(result.code, 0, result.stderr);
          const urls = (await readFile(record, "utf8")).split("\n");
          assert.ok(urls.some((url) => url.endsWith(`/${ENTRY_FILE}`)), "the recorder saw the entry load");
          return urls.filter((url) => url.startsWith(`file://${built.outDir}/`)).map((url) => path.basename(url));
        });
      }

      it("each client library sits in a lazy chunk of its own, not in the entry", () => {
        for (const library of ["discord.js", "@anthropic-ai/sdk", "openai"]) {
          const chunks = chunksOf(library);
          assert.notDeepEqual(chunks, [], `${library} is in the bundle`);
          assert.ok(!chunks.includes(ENTRY_FILE), `${library} is in the entry`);
        }
      });

      it("a plain local run loads none of them", async () => {
        const loaded = await chunksLoaded();
        for (const library of CLIENT_LIBRARIES) {
          assert.deepEqual(chunksOf(library).filter((chunk) => loaded.includes(chunk)), [], `${library}'s chunk was loaded`);
        }
      });

      it("an Anthropic key loads the Anthropic SDK's chunk, and still not discord.js's", async () => {
        const loaded = await chunksLoaded({ ANTHROPIC_API_KEY: "sk-ant-bundle-test" });
        assert.notDeepEqual(chunksOf("@anthropic-ai/sdk").filter((chunk) => loaded.includes(chunk)), [], "the recorder sees chunks load");
        assert.deepEqual(chunksOf("discord.js").filter((chunk) => loaded.includes(chunk)), []);
      });
    });
  });

  describe("the bundle build refuses operator code", () => {
    const cases: Array<[what: string, source: string, named: RegExp]> = [
      ["a Pulumi import", 'import "@pulumi/pulumi";\n', /Pulumi \("@pulumi\/pulumi"\) must not be in the agent artifact/],
      ["an import of infra/", `import "${path.join(ROOT, "infra/stacks.ts")}";\n`, /operator code \(infra\/stacks\.ts\) must not be in the agent artifact/],
      ["an import of providers/", `export * from "${path.join(ROOT, "providers/nixos-ami/index.ts")}";\n`, /operator code \(providers\/nixos-ami\/index\.ts\)/],
    ];
    for (const [what, source, named] of cases) {
      it(`fails on ${what}, naming it and its importer`, async () => {
        const entry = path.join(dir, `entry-${cases.findIndex(([w]) => w === what)}.ts`);
        await writeFile(entry, source);
        await assert.rejects(bundle({ outDir: path.join(dir, "refused"), entry }), (error: unknown) => {
          assert.ok(error instanceof BundleError, String(error));
          assert.match(error.message, named);
          assert.ok(error.message.includes(path.basename(entry)), error.message);
          return true;
        });
      });
    }

    it("fails on a lazy import() of a CommonJS module, which would yield only `default` in the split bundle", async () => {
      await writeFile(path.join(dir, "legacy.cjs"), "exports.answer = 42;\n");
      const entry = path.join(dir, "entry-cjs.ts");
      await writeFile(entry, 'const { answer } = await import("./legacy.cjs");\nconsole.log(answer);\n');
      await assert.rejects(bundle({ outDir: path.join(dir, "refused"), entry }), (error: unknown) => {
        assert.ok(error instanceof BundleError, String(error));
        assert.match(error.message, /import\(\) of a CommonJS module .*evanw\/esbuild#3245/);
        assert.ok(error.message.includes("imports ./legacy.cjs"), error.message);
        return true;
      });
    });
  });
});
