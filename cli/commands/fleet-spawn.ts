// `clawdinator fleet spawn <n>`: self-deploy in one command. Writes Pulumi.clawdinator-<n>.yaml from
// the fleet's `instanceDefaults`, stores the instance's age identity as a Pulumi secret, and runs
// `pulumi up` through the Automation API with the CLI's progress on this terminal; the stack's own
// health gate then waits until the new CLAWDINATOR reports healthy. Every refusal happens before any
// file is written: a bad number, an existing stack without --replace, a missing or undeployed fleet
// stack, a missing identity, defaults the instance schema rejects, a missing secret file.
import { spawn as spawnProcess } from "node:child_process";
import { constants, access, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import yaml from "js-yaml";
import { BundleError, planBundle } from "../../infra/bundle.ts";
import { readStackConfig, StackConfigError, type InstanceConfig } from "../../infra/config.ts";
import { parseStackName } from "../../infra/stacks.ts";
import { parseOptions, UsageError, type CliCommand, type CliIo } from "../io.ts";
import type { PulumiCommand } from "@pulumi/pulumi/automation/index.js";

const INSTANCE_NUMBER = /^[1-9][0-9]{0,3}$/;

export interface SpawnPlan {
  readonly instance: string;
  readonly stack: string;
  readonly stackFile: string;
  /** The stack file's text: config from the fleet's defaults, never the identity (that goes in as a Pulumi secret). */
  readonly text: string;
  readonly ageIdentity: string;
  readonly fleetStack: string;
}

/** Everything spawn decides without Pulumi: validated, nothing written. Throws UsageError with the fix. */
export async function planSpawn(number: string | undefined, options: { project: string; replace: boolean; ageIdentityFile?: string }): Promise<SpawnPlan> {
  if (number === undefined || !INSTANCE_NUMBER.test(number)) {
    throw new UsageError(`spawn needs an instance number from 1 to 9999 (got ${number === undefined ? "nothing" : `"${number}"`}), e.g. clawdinator fleet spawn 3`);
  }
  const stack = `clawdinator-${number}`;
  const kind = parseStackName(stack);
  if (kind.kind !== "instance") throw new UsageError(`${stack} is not an instance stack`);
  const stackFile = path.join(options.project, `Pulumi.${stack}.yaml`);
  if (!options.replace && (await exists(stackFile))) {
    throw new UsageError(`${path.basename(stackFile)} already exists: ${kind.instance} has a stack. Deploy it with pulumi up --stack ${stack}, or pass --replace to rewrite it from the fleet's defaults`);
  }
  const fleetFile = path.join(options.project, "Pulumi.fleet.yaml");
  const fleet = await readStackFile(fleetFile, `no fleet stack file ${fleetFile}: spawn builds on a deployed fleet (pulumi stack init fleet, then pulumi up --stack fleet; see docs/DEPLOYMENT.md)`);
  const region = fleet["aws:region"];
  if (typeof region !== "string") throw new UsageError(`${fleetFile} has no aws:region: pulumi config set aws:region eu-central-1 --stack fleet`);
  const defaults = fleet["clawdinators:instanceDefaults"] ?? {};
  if (!isMapping(defaults)) throw new UsageError(`${fleetFile}: clawdinators:instanceDefaults must be a mapping of instance stack keys (instanceType, secrets, repos, agent, ...)`);
  const config: Record<string, unknown> = { "aws:region": region, "clawdinators:fleetStack": "fleet" };
  for (const [key, value] of Object.entries(defaults)) config[`clawdinators:${key}`] = value;

  const identityFile = path.resolve(options.project, options.ageIdentityFile ?? `${stack}.agekey`);
  let identityText: string;
  try {
    identityText = await readFile(identityFile, "utf8");
  } catch {
    throw new UsageError(
      `no age identity at ${identityFile}: create it with age-keygen -o ${stack}.agekey, re-encrypt the secrets to its public key (agenix -r), ` +
        "then rerun (or pass --age-identity FILE)",
    );
  }
  // The instance schema checks the defaults and the identity together, exactly as pulumi up will.
  const raw = Object.fromEntries(Object.entries({ ...config, "clawdinators:ageIdentity": identityText }).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
  let checked: InstanceConfig;
  try {
    const parsed = readStackConfig(stack, kind, raw, () => true);
    if (parsed.kind !== "instance") throw new UsageError(`${stack} is not an instance stack`);
    checked = parsed;
  } catch (error) {
    if (error instanceof StackConfigError) throw new UsageError(`the fleet's instanceDefaults do not make a valid ${stack} (${fleetFile}):\n${error.message.split("\n").slice(1).join("\n")}`);
    throw error;
  }
  try {
    await planBundle({ instance: kind.instance, secretsDir: path.resolve(options.project, checked.secretsDir), secrets: checked.secrets, repos: checked.repos, agent: checked.agent });
  } catch (error) {
    if (error instanceof BundleError) throw new UsageError(error.message);
    throw error;
  }
  const header = [
    `# The stack of ${kind.instance}, written by \`clawdinator fleet spawn ${number}\` from the fleet's instanceDefaults.`,
    "# Its age identity is a Pulumi secret (pulumi config set --secret), never in this file's plain text.",
  ];
  const text = `${header.join("\n")}\n${yaml.dump({ config }, { lineWidth: 120 })}`;
  return { instance: kind.instance, stack, stackFile, text, ageIdentity: checked.ageIdentity, fleetStack: checked.fleetStack };
}

const HELP = `usage: clawdinator fleet spawn <n> [--replace] [--age-identity FILE] [--project DIR]

Self-deploy CLAWDINATOR-<n>: writes Pulumi.clawdinator-<n>.yaml from the fleet stack's
clawdinators:instanceDefaults, stores the age identity (default: clawdinator-<n>.agekey) as a Pulumi
secret, and runs pulumi up for the new stack (policy pack enforced, health gate included).

  --replace             rewrite an existing stack's file and update it
  --age-identity FILE   the instance's age-keygen file (the secrets must be encrypted to its public key)
  --project DIR         the project folder (Pulumi.yaml); default: .`;

/** Loaded by `clawdinator fleet spawn` (cli/commands/fleet.ts); stubbed in the instance artifact, which has no Pulumi. */
export const command: CliCommand = { run: spawn };

async function spawn(args: readonly string[], io: CliIo): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout.write(`${HELP}\n`);
    return 0;
  }
  const { options, positional } = parseOptions(args, ["age-identity", "project"], ["replace"]);
  if (positional.length > 1) throw new UsageError(`spawn takes one instance number, got ${positional.join(" ")}`);
  const project = path.resolve(io.cwd, options.get("project") ?? ".");
  const replace = options.has("replace");
  const ageIdentityFile = options.get("age-identity");
  const plan = await planSpawn(positional[0], { project, replace, ...(ageIdentityFile ? { ageIdentityFile } : {}) });

  const { LocalWorkspace, Stack } = await import("@pulumi/pulumi/automation/index.js");
  const pulumi = await findPulumi(io.env);
  // Every pulumi call gets the command's environment (PATH, credentials, passphrase), laid by the
  // Automation API over this process's.
  const envVars = Object.fromEntries(Object.entries(io.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const pulumiCommand = await pulumiCommandFor(pulumi, io.env);
  // One workspace for every call: another would ask pulumi's version again.
  const workspace = await LocalWorkspace.create({ workDir: project, envVars, ...(pulumiCommand ? { pulumiCommand } : {}) });
  const stacks = (await workspace.listStacks()).map((s) => s.name.split("/").at(-1));
  if (!replace && stacks.includes(plan.stack)) {
    throw new UsageError(`stack ${plan.stack} already exists: deploy it with pulumi up --stack ${plan.stack}, or pass --replace`);
  }
  if (!stacks.includes(plan.fleetStack.split("/").at(-1))) {
    throw new UsageError(`no fleet stack "${plan.fleetStack}" in this backend: pulumi stack init fleet && pulumi up --stack fleet first`);
  }
  const fleetOutputs = await workspace.stackOutputs(plan.fleetStack);
  if (fleetOutputs.amiId?.value === undefined) {
    throw new UsageError(`the fleet stack "${plan.fleetStack}" has no image yet (no amiId output): pulumi up --stack ${plan.fleetStack} first`);
  }

  await writeFile(plan.stackFile, plan.text, { mode: 0o644 });
  io.stdout.write(`wrote ${path.relative(io.cwd, plan.stackFile) || plan.stackFile}\n`);
  const stack = await Stack.createOrSelect(plan.stack, workspace);
  await setSecretConfig({ pulumi, project, env: io.env }, plan.stack, "clawdinators:ageIdentity", plan.ageIdentity);
  const policyPack = path.join(project, "infra/policy");
  const result = await stack.up({
    onOutput: (out) => io.stdout.write(out),
    signal: io.signal,
    ...((await exists(path.join(policyPack, "PulumiPolicy.yaml"))) ? { policyPacks: [policyPack] } : {}),
  });
  const succeeded = result.summary.result === "succeeded";
  io.stdout.write(`${plan.instance}: pulumi up ${result.summary.result}${succeeded ? ", health gate passed" : ""}. Watch it with: clawdinator fleet status\n`);
  return succeeded ? 0 : 1;
}

/**
 * `pulumi config set KEY --secret` with the value on stdin, which the CLI reads when stdin is no
 * terminal. The Automation API's setConfig passes the value as an argument, where every user of the
 * machine can read it in the process list for as long as pulumi runs.
 */
async function setSecretConfig(where: { pulumi: string; project: string; env: NodeJS.ProcessEnv }, stack: string, key: string, value: string): Promise<void> {
  const child = spawnProcess(where.pulumi, ["config", "set", key, "--secret", "--stack", stack, "--non-interactive"], {
    cwd: where.project,
    env: where.env,
    stdio: ["pipe", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdin.end(value);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  if (code !== 0) throw new Error(`pulumi config set ${key} --secret --stack ${stack} failed (exit ${code}): ${stderr.trim() || "no message"}`);
}

/** The `pulumi` the command's PATH finds (the Automation API would look on this process's PATH). */
async function findPulumi(env: NodeJS.ProcessEnv): Promise<string> {
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, "pulumi");
    const executable = await access(candidate, constants.X_OK).then(
      async () => (await stat(candidate)).isFile(),
      () => false,
    );
    if (executable) return candidate;
  }
  throw new Error("no pulumi on PATH: install the Pulumi CLI (https://www.pulumi.com/docs/install/) and rerun");
}

/**
 * The Automation API's handle on that `pulumi`. It takes an installation root and runs
 * root/bin/pulumi, so one outside a bin folder is left to the API's own search (this process's
 * PATH, the same one unless the command was given another environment).
 */
async function pulumiCommandFor(pulumi: string, env: NodeJS.ProcessEnv): Promise<PulumiCommand | undefined> {
  if (path.basename(path.dirname(pulumi)) !== "bin") return undefined;
  const { PulumiCommand } = await import("@pulumi/pulumi/automation/index.js");
  return PulumiCommand.get({ root: path.dirname(path.dirname(pulumi)), skipVersionCheck: Boolean(env.PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK) });
}

async function readStackFile(file: string, missing: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new UsageError(missing);
  }
  let document: unknown;
  try {
    document = yaml.load(text);
  } catch (error) {
    throw new UsageError(`${file} is not valid YAML: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
  }
  const config = isMapping(document) ? document.config : undefined;
  if (!isMapping(config)) throw new UsageError(`${file}: expected a mapping with a config: mapping inside, as pulumi config set writes it`);
  return config;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
