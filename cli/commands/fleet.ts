// `clawdinator fleet status|wait-healthy|spawn`: the fleet's health as the instances report it
// (status/CLAWDINATOR-<n>.json in the bootstrap bucket), the deploy health gate, and self-deploy.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fleetStatus, formatFleetTable, HealthGateError, waitHealthy } from "../../agent/ops/health.ts";
import { openS3Store, type ObjectStore } from "../../agent/ops/store.ts";
import { INSTANCE_NAME } from "../../agent/config/schema.ts";
import { credentialsFrom, endpointFrom } from "../aws.ts";
import { parseOptions, UsageError, type CliCommand, type CliIo } from "../io.ts";

const HELP = `usage: clawdinator fleet <action> [options]

  status [--json]                       every instance: image, revision, healthy, heartbeat age, last error
  wait-healthy CLAWDINATOR-<n> --boot-after TIME [--instance-id i-…] [--timeout 15m]
                                        wait until that instance reports healthy (the deploy health gate)
  spawn <n> [--replace] [--age-identity FILE]
                                        write Pulumi.clawdinator-<n>.yaml from the fleet's instanceDefaults and pulumi up

Where the reports are (status, wait-healthy):
  --bucket NAME         the bootstrap bucket (or CLAWDINATOR_STATUS_BUCKET, or --outputs)
  --outputs FILE        the fleet's \`pulumi stack output --json\` (bootstrapBucket, region)
  --region REGION       AWS region (default: AWS_REGION)
  --endpoint-url URL    S3 endpoint (an emulator; default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL)
  --stale-after 3m      a heartbeat older than this is unhealthy
  --project DIR         where Pulumi.clawdinator-<n>.yaml files name the instances expected to report (default: .)

A missing or stale heartbeat is unhealthy. Exit codes: 0 all healthy, 1 something is not, 2 usage.`;

export const command: CliCommand = {
  async run(args, io) {
    const [action, ...rest] = args;
    if (action === undefined || action === "--help" || action === "help" || rest.includes("--help") || rest.includes("-h")) {
      io.stdout.write(`${HELP}\n`);
      return action === undefined ? 2 : 0;
    }
    if (action === "status") return status(rest, io);
    if (action === "wait-healthy") return waitHealthyCommand(rest, io);
    if (action === "spawn") {
      // Its own module: it loads Pulumi's Automation API, which status never needs.
      const spawn = await import("./fleet-spawn.ts");
      return spawn.command.run(rest, io);
    }
    throw new UsageError(`unknown fleet action "${action}"; run: clawdinator fleet status`);
  },
};

const STORE_OPTIONS = ["bucket", "outputs", "region", "endpoint-url", "stale-after"] as const;
/** Every option of every fleet action (the docs test checks the docs against them). */
export const OPTIONS = [...STORE_OPTIONS, "project", "boot-after", "instance-id", "timeout", "poll", "age-identity"] as const;
export const FLAGS = ["json", "replace"] as const;

async function status(args: readonly string[], io: CliIo): Promise<number> {
  const { options, positional } = parseOptions(args, [...STORE_OPTIONS, "project"], ["json"]);
  if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}"; see clawdinator fleet --help`);
  const staleAfterMs = options.has("stale-after") ? parseDuration("--stale-after", options.get("stale-after") ?? "") : undefined;
  const expected = await expectedInstances(path.resolve(io.cwd, options.get("project") ?? "."));
  const store = await openStore(options, io);
  try {
    const rows = await fleetStatus(store, { now: new Date(), expected, ...(staleAfterMs !== undefined ? { staleAfterMs } : {}) });
    if (options.has("json")) {
      io.stdout.write(`${JSON.stringify({ bucket: store.bucket, healthy: rows.every((r) => r.healthy), instances: rows }, null, 2)}\n`);
    } else {
      io.stdout.write(`${formatFleetTable(rows)}\n`);
    }
    return rows.length > 0 && rows.every((r) => r.healthy) ? 0 : 1;
  } finally {
    store.close();
  }
}

async function waitHealthyCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { options, positional } = parseOptions(args, [...STORE_OPTIONS, "boot-after", "instance-id", "timeout", "poll"]);
  const [instance, extra] = positional;
  if (!instance || !INSTANCE_NAME.test(instance) || extra !== undefined) {
    throw new UsageError(`name one instance: clawdinator fleet wait-healthy CLAWDINATOR-<n> --boot-after TIME (got ${positional.join(" ") || "nothing"})`);
  }
  const bootAfterText = options.get("boot-after");
  const bootAfter = bootAfterText === undefined ? undefined : new Date(bootAfterText);
  if (bootAfter !== undefined && Number.isNaN(bootAfter.getTime())) throw new UsageError(`--boot-after must be a time like 2026-12-02T05:00:00Z, got "${bootAfterText}"`);
  const instanceId = options.get("instance-id");
  if (instanceId !== undefined && !/^i-[0-9a-f]{8,17}$/.test(instanceId)) throw new UsageError(`--instance-id must be an EC2 instance id (i-…), got "${instanceId}"`);
  const timeoutMs = parseDuration("--timeout", options.get("timeout") ?? "15m");
  const pollMs = options.has("poll") ? parseDuration("--poll", options.get("poll") ?? "") : undefined;
  const staleAfterMs = options.has("stale-after") ? parseDuration("--stale-after", options.get("stale-after") ?? "") : undefined;
  const store = await openStore(options, io);
  let lastReason = "";
  try {
    const healthy = await waitHealthy(store, {
      instance,
      timeoutMs,
      signal: io.signal,
      ...(bootAfter ? { bootAfter } : {}),
      ...(instanceId ? { instanceId } : {}),
      ...(pollMs !== undefined ? { pollMs } : {}),
      ...(staleAfterMs !== undefined ? { staleAfterMs } : {}),
      onWait: (verdict) => {
        if (verdict.reason === lastReason) return;
        lastReason = verdict.reason;
        io.stderr.write(`${instance}: waiting: ${verdict.reason}\n`);
      },
    });
    io.stdout.write(
      `${instance} healthy: ${healthy.instanceId ?? "?"} on ${healthy.imageId ?? "?"}, revision ${healthy.configurationRevision ?? "?"}, boot ${healthy.bootId ?? "?"}, gateway connected\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof HealthGateError) {
      io.stderr.write(`clawdinator: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    store.close();
  }
}

/** The bucket from --bucket, CLAWDINATOR_STATUS_BUCKET or the fleet's outputs. */
async function openStore(options: ReadonlyMap<string, string>, io: CliIo): Promise<ObjectStore> {
  let outputs: Record<string, unknown> = {};
  const outputsFile = options.get("outputs");
  if (outputsFile !== undefined) {
    try {
      const parsed = JSON.parse(await readFile(path.resolve(io.cwd, outputsFile), "utf8")) as unknown;
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not a JSON object");
      outputs = parsed as Record<string, unknown>;
    } catch (error) {
      throw new UsageError(`--outputs ${outputsFile}: ${error instanceof Error ? error.message : String(error)}; create it with pulumi stack output --json --stack fleet > outputs.json`);
    }
  }
  const fromOutputs = (name: string): string | undefined => (typeof outputs[name] === "string" ? outputs[name] : undefined);
  const bucket = options.get("bucket") ?? io.env.CLAWDINATOR_STATUS_BUCKET ?? fromOutputs("bootstrapBucket");
  if (!bucket) throw new UsageError("which bucket? pass --bucket (the fleet's bootstrapBucket: pulumi stack output bootstrapBucket --stack fleet) or --outputs FILE");
  const region = options.get("region") ?? fromOutputs("region") ?? io.env.AWS_REGION;
  if (!region) throw new UsageError("no region: pass --region or set AWS_REGION");
  const endpoint = options.get("endpoint-url") ?? endpointFrom(io.env, "s3");
  return openS3Store({ bucket, region, endpoint, credentials: credentialsFrom(io.env) });
}

/** Instances with a stack file in the project: each is expected to report, and is unhealthy until it does. */
async function expectedInstances(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => []);
  return names.flatMap((name) => {
    const match = /^Pulumi\.clawdinator-([1-9][0-9]{0,3})\.yaml$/.exec(name);
    return match?.[1] ? [`CLAWDINATOR-${match[1]}`] : [];
  });
}

/** `90s`, `15m`, `2h` (or plain milliseconds). */
export function parseDuration(option: string, text: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(text.trim());
  if (!match?.[1]) throw new UsageError(`${option} must look like 90s, 15m or 2h, got "${text}"`);
  const value = Number(match[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? "ms"] ?? 1;
  return value * unit;
}
