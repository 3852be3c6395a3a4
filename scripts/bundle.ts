// scripts/bundle.ts: builds the agent artifact, the folder an instance runs (`npm run bundle`; the
// Nix package runs the same script). One esbuild pass over the `clawdinator` CLI and its runtime
// dependencies, then the shipped assets beside it:
//
//   dist/clawdinator.mjs     the entry: `node dist/clawdinator.mjs run`
//   dist/chunk-<HASH>.mjs    code-split chunks, one per lazily imported part (discord.js, the
//                            Anthropic SDK, each subcommand): loaded only when that part runs
//   dist/workspace/          the shipped workspace (SOUL, IDENTITY, AGENTS, skills)
//   dist/memory/             the hive mind's templates
//
// The operator commands (`image`, `bootstrap`) are replaced by a stub that points to a checkout,
// and any import of Pulumi, infra/ or providers/ that still reaches the bundle fails the build.
import { constants } from "node:fs";
import { chmod, cp, readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_OUT_DIR = path.join(ROOT, "dist");
/** The entry file's name inside the output folder. */
export const ENTRY_FILE = "clawdinator.mjs";
/** Folders copied from the repository root into the artifact; agent/assets.ts reads them there. */
export const ASSET_DIRS = ["workspace", "memory"] as const;
/** The only kinds of asset file the agent reads (workspace and memory templates). */
const ASSET_EXTENSIONS = new Set([".md", ".json"]);

/** Commands that drive Pulumi and the image pipeline from an operator's machine: stubbed in the artifact. */
const OPERATOR_COMMANDS: ReadonlyMap<string, string> = new Map([
  [path.join(ROOT, "cli/commands/image.ts"), "image"],
  [path.join(ROOT, "cli/commands/bootstrap.ts"), "bootstrap"],
  [path.join(ROOT, "cli/commands/fleet-spawn.ts"), "fleet spawn"],
]);
const OPERATOR_STUB = path.join(ROOT, "cli/operator-only.ts");
const PACKAGE_JSON = path.join(ROOT, "package.json");
/** Source folders that belong to the operator side and never to the agent. */
const FORBIDDEN_DIRS = ["infra", "providers"].map((dir) => path.join(ROOT, dir) + path.sep);

/**
 * discord.js (and other CommonJS code) calls `require()` for node builtins at run time; an ES
 * module has no `require`, so every output file defines one from its own URL.
 */
const BANNER = 'import { createRequire as __clawdinatorCreateRequire } from "node:module"; const require = __clawdinatorCreateRequire(import.meta.url);';

/** The artifact could not be built as it must be; the message names the import or file and the fix. */
export class BundleError extends Error {
  override readonly name = "BundleError";
}

export interface BundleOptions {
  /** Where the artifact goes; emptied first. @default dist/ in the repository */
  readonly outDir?: string;
  /** The entry module, relative to the repository or absolute. @default cli/main.ts (tests pass another to prove the guards fire) */
  readonly entry?: string;
}

export interface BundleResult {
  readonly outDir: string;
  /** Absolute path of the entry, `<outDir>/clawdinator.mjs`. */
  readonly entry: string;
  /** Which sources went into which output file (esbuild's metafile; paths relative to the repository). */
  readonly metafile: esbuild.Metafile;
  /** Every file of the artifact, relative to `outDir`, sorted. */
  readonly files: readonly string[];
}

const isInside = (file: string, dirs: readonly string[]): boolean => dirs.some((dir) => file.startsWith(dir));

function refuse(what: string, importer: string): esbuild.OnResolveResult {
  return {
    errors: [
      {
        text:
          `${what} must not be in the agent artifact (imported by ${path.relative(ROOT, importer) || importer}). ` +
          "Agent code never imports Pulumi, infra/ or providers/ (docs/ARCHITECTURE.md); an operator command " +
          "belongs in OPERATOR_COMMANDS of scripts/bundle.ts, which stubs it.",
      },
    ],
  };
}

/** Keeps the operator side out: stubs the operator commands and fails on anything else of theirs. */
const agentOnly: esbuild.Plugin = {
  name: "clawdinator-agent-only",
  setup(build) {
    build.onResolve({ filter: /^@pulumi\// }, (args) => refuse(`Pulumi ("${args.path}")`, args.importer));
    build.onResolve({ filter: /^\.\.?\/|^\// }, (args) => {
      const target = path.resolve(args.resolveDir, args.path);
      const command = OPERATOR_COMMANDS.get(target);
      if (command) return { path: command, namespace: "operator-command" };
      if (isInside(target, FORBIDDEN_DIRS)) return refuse(`operator code (${path.relative(ROOT, target)})`, args.importer);
      return undefined;
    });
    build.onLoad({ filter: /.*/, namespace: "operator-command" }, (args) => ({
      contents: `import { operatorOnlyCommand } from ${JSON.stringify(OPERATOR_STUB)};\nexport const command = operatorOnlyCommand(${JSON.stringify(args.path)});\n`,
      loader: "ts",
      resolveDir: ROOT,
    }));
    // The agent reads only the version from package.json; the rest (dependency lists, scripts)
    // has no business in the artifact.
    build.onLoad({ filter: /[\\/]package\.json$/ }, async (args) => {
      if (args.path !== PACKAGE_JSON) return undefined;
      const { version } = JSON.parse(await readFile(args.path, "utf8")) as { version: string };
      return { contents: JSON.stringify({ version }), loader: "json" };
    });
    // A safety net for paths that reach those folders another way (a package requiring Pulumi).
    build.onLoad({ filter: /[\\/]node_modules[\\/]@pulumi[\\/]/ }, (args) => ({
      errors: [{ text: `Pulumi (${args.path}) must not be in the agent artifact; find what pulls it in with \`npx esbuild --analyze\`.` }],
    }));
    build.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) =>
      isInside(args.path, FORBIDDEN_DIRS) ? { errors: [{ text: `operator code (${path.relative(ROOT, args.path)}) must not be in the agent artifact.` }] } : undefined,
    );
  },
};

async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await listFiles(path.join(dir, entry.name), relative)));
    else files.push(relative);
  }
  return files.sort();
}

/**
 * What may be in the artifact: JavaScript chunks directly in the folder (agent/assets.ts resolves
 * the assets from the folder of the chunk it lands in, so no chunk may sit in a subfolder) and the
 * asset folders' markdown and JSON. No native addon, no executable, nothing of node_modules.
 */
async function checkArtifact(outDir: string, files: readonly string[]): Promise<void> {
  for (const file of files) {
    const [top = "", ...rest] = file.split("/");
    const allowed =
      rest.length === 0
        ? file.endsWith(".mjs")
        : (ASSET_DIRS as readonly string[]).includes(top) && ASSET_EXTENSIONS.has(path.extname(file));
    if (!allowed) throw new BundleError(`unexpected file in the artifact: ${path.join(outDir, file)} (only .mjs chunks at the top and ${ASSET_DIRS.join("/, ")}/ markdown and JSON belong there)`);
    if (file.endsWith(".mjs") && (await readFile(path.join(outDir, file), "utf8")).includes("@pulumi/")) {
      throw new BundleError(`${file} mentions "@pulumi/": Pulumi code reached the agent artifact`);
    }
  }
}

/** Builds the artifact into `outDir` (emptied first) and checks it. */
export async function bundle(options: BundleOptions = {}): Promise<BundleResult> {
  const outDir = path.resolve(options.outDir ?? DEFAULT_OUT_DIR);
  if (ROOT.startsWith(outDir + path.sep) || outDir === ROOT || outDir === path.parse(outDir).root) {
    throw new BundleError(`refusing to empty ${outDir}: it holds the repository; pick a folder of its own, e.g. dist/`);
  }
  await rm(outDir, { recursive: true, force: true });
  let result: esbuild.BuildResult<{ metafile: true }>;
  try {
    result = await esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: { clawdinator: options.entry ?? "cli/main.ts" },
      outdir: outDir,
      outExtension: { ".js": ".mjs" },
      chunkNames: "chunk-[hash]",
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      // Node ignores "module", but a package's ES build is the one a bundler should take: it
      // tree-shakes, and a lazy import() of it keeps its named exports (checkDynamicImports).
      // The AWS SDK v3 recommends exactly this for bundling.
      mainFields: ["module", "main"],
      target: "node24",
      minify: true,
      // Error class names survive minification: pino logs an error's `type` from its constructor.
      keepNames: true,
      legalComments: "eof",
      banner: { js: BANNER },
      define: { __CLAWDINATOR_BUNDLED__: "true" },
      metafile: true,
      logLevel: "silent",
      plugins: [agentOnly],
    });
  } catch (error) {
    const failures = error instanceof Error && "errors" in error ? (error.errors as esbuild.Message[]) : [];
    if (failures.length === 0) throw error;
    throw new BundleError(`the agent artifact did not build:\n${failures.map((m) => `  ${m.location ? `${m.location.file}:${m.location.line}: ` : ""}${m.text}`).join("\n")}`);
  }
  checkDynamicImports(result.metafile);
  for (const dir of ASSET_DIRS) {
    await cp(path.join(ROOT, dir), path.join(outDir, dir), {
      recursive: true,
      filter: async (source) => (await stat(source)).isDirectory() || ASSET_EXTENSIONS.has(path.extname(source)),
    });
  }
  const entry = path.join(outDir, ENTRY_FILE);
  await chmod(entry, constants.S_IRWXU | constants.S_IRGRP | constants.S_IXGRP | constants.S_IROTH | constants.S_IXOTH);
  const files = await listFiles(outDir);
  await checkArtifact(outDir, files);
  return { outDir, entry, metafile: result.metafile, files };
}

/**
 * With code splitting, esbuild turns `await import("x")` of a CommonJS module into a chunk whose
 * only export is `default` (evanw/esbuild#3245, open): `const { S3Client } = await import(
 * "@aws-sdk/client-s3")` then gives undefined in the bundle while it works from sources. Such an
 * import must fail the build, not the instance: import the package statically from a module of
 * ours and import that module lazily (as agent/transport/discord.ts does for discord.js).
 */
function checkDynamicImports(metafile: esbuild.Metafile): void {
  const broken: string[] = [];
  for (const [importer, input] of Object.entries(metafile.inputs)) {
    for (const target of input.imports) {
      if (target.kind === "dynamic-import" && metafile.inputs[target.path]?.format === "cjs") {
        broken.push(`${importer} imports ${target.original ?? target.path} (CommonJS: ${target.path}) with import()`);
      }
    }
  }
  if (broken.length > 0) {
    throw new BundleError(
      `a lazy import() of a CommonJS module yields only \`default\` in the split bundle (evanw/esbuild#3245):\n  ${broken.join("\n  ")}\n` +
        "Import the package statically from a module of ours, and import() that module instead.",
    );
  }
}

/** Total bytes of the artifact's files, and the sum of each file gzipped (what a store or cache would hold compressed). */
export async function artifactSize(outDir: string, files: readonly string[]): Promise<{ bytes: number; gzipped: number }> {
  let bytes = 0;
  let gzipped = 0;
  for (const file of files) {
    const content = await readFile(path.join(outDir, file));
    bytes += content.length;
    gzipped += gzipSync(content, { level: 9 }).length;
  }
  return { bytes, gzipped };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { out: { type: "string" } } });
  try {
    const started = performance.now();
    const built = await bundle({ outDir: values.out });
    const size = await artifactSize(built.outDir, built.files);
    const chunks = built.files.filter((file) => file.endsWith(".mjs")).length;
    const kb = (n: number): string => `${(n / 1024).toFixed(0)} KB`;
    console.log(
      `bundled the agent into ${path.relative(process.cwd(), built.outDir) || "."}/ in ${(performance.now() - started).toFixed(0)} ms: ` +
        `${ENTRY_FILE} + ${chunks - 1} chunks, ${built.files.length - chunks} asset files, ${kb(size.bytes)} (${kb(size.gzipped)} gzipped)`,
    );
    console.log(`run it with: node ${path.relative(process.cwd(), built.entry)} run`);
  } catch (error) {
    if (!(error instanceof BundleError)) throw error;
    console.error(`bundle: ${error.message}`);
    process.exitCode = 1;
  }
}
