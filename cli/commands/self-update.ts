// `clawdinator self-update`: the in-place lane, as the systemd timer (and an operator) runs it on an
// instance. Composes the real host (nix, switch-to-configuration), the fleet's release pin from the
// bootstrap bucket, and this host's status sections; the decisions are agent/ops/self-update.ts.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { loadConfig } from "../../agent/config/load.ts";
import { loadSecrets } from "../../agent/config/secrets.ts";
import { gatewayHealth, RELEASE_KEY, ReleaseSchema, runCommand, selfUpdate, systemCommands, type Release } from "../../agent/ops/self-update.ts";
import { StatusReporter } from "../../agent/ops/status.ts";
import { openStatusStore, type ObjectStore } from "../../agent/ops/store.ts";
import packageJson from "../../package.json" with { type: "json" };
import { parseDuration } from "./fleet.ts";
import { parseOptions, UsageError, type CliCommand } from "../io.ts";

const HELP = `usage: clawdinator self-update [--config FILE] [--state-dir DIR] [--health-timeout 5m] [--release FILE]

Switches this host to the release the fleet pins (release/current.json in the bootstrap bucket: a
flake ref at a fixed revision, and the system's store path when known), waits for the gateway to
report healthy, and switches back to the previous system when it does not. A release that failed
is never tried again; a run while another holds the lock does nothing. Never a host-local flake update.

  --config FILE         the agent's config.json (instance, status bucket); default CLAWDINATOR_CONFIG
  --state-dir DIR       the lock and the known-bad list (default /var/lib/clawdinator/self-update)
  --health-timeout 5m   how long the gateway has to report connected after the switch
  --release FILE        a release document to use instead of the bucket's (testing a pin by hand)

Exit codes: 0 switched, current, nothing pinned, known bad or busy; 1 rolled back or failed.`;

export const OPTIONS = ["config", "state-dir", "health-timeout", "release"] as const;

export const command: CliCommand = {
  async run(args, io) {
    if (args.includes("--help") || args.includes("-h")) {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    const { options, positional } = parseOptions(args, ["config", "state-dir", "health-timeout", "release"]);
    if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}"; see clawdinator self-update --help`);
    const healthTimeoutMs = parseDuration("--health-timeout", options.get("health-timeout") ?? "5m");
    const { config, source } = await loadConfig(options.get("config") ?? io.env.CLAWDINATOR_CONFIG, io.cwd);
    const secrets = await loadSecrets(config, io.env, source).catch(() => ({}));
    const region = config.status.region ?? io.env.AWS_REGION;
    let store: ObjectStore | undefined;
    if (config.status.bucket) {
      if (!region) throw new UsageError(`status.bucket is set in ${source} but no region: set "status.region" (or AWS_REGION)`);
      store = await openStatusStore({ bucket: config.status.bucket, endpoint: config.status.endpoint }, region, io.env);
    }
    const releaseFile = options.get("release");
    if (!store && releaseFile === undefined) throw new UsageError(`no release source: ${source} sets no "status.bucket" (the bootstrap bucket); pass --release FILE to test a pin`);
    const reporter = new StatusReporter({
      instance: config.instance,
      agentVersion: packageJson.version,
      factsDir: path.resolve(io.cwd, config.status.factsDir),
      ...(store ? { store } : {}),
      secrets: Object.values(secrets),
    });
    const readRelease = async (): Promise<Release | undefined> => {
      const text = releaseFile !== undefined ? await readFile(path.resolve(io.cwd, releaseFile), "utf8") : await store?.get(RELEASE_KEY);
      if (text === undefined) return undefined;
      const parsed = ReleaseSchema.safeParse(JSON.parse(text));
      if (!parsed.success) throw new UsageError(`the pinned release is not valid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
      return parsed.data;
    };
    try {
      const outcome = await selfUpdate({
        system: {
          ...systemCommands(runCommand),
          readRelease,
          waitHealthy: gatewayHealth(() => reporter.section("gateway"), { now: () => new Date(), sleep: (ms) => sleep(ms), pollMs: 5_000 }),
        },
        report: (section) => reporter.update("update", section),
        stateDir: path.resolve(io.cwd, options.get("state-dir") ?? "/var/lib/clawdinator/self-update"),
        healthTimeoutMs,
        instance: config.instance,
        log: (message) => io.stderr.write(`self-update: ${message}\n`),
      });
      const detail = "detail" in outcome ? `: ${outcome.detail}` : "release" in outcome ? `: ${outcome.release}` : "";
      io.stdout.write(`${config.instance} self-update ${outcome.result}${detail}\n`);
      return ["rolled-back", "switch-failed", "realise-failed"].includes(outcome.result) ? 1 : 0;
    } finally {
      store?.close();
    }
  },
};
