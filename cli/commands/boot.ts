import { loadBootSettings } from "../../agent/boot/settings.ts";
import packageJson from "../../package.json" with { type: "json" };
import { createLogger, stderrSink } from "../../agent/log.ts";
import { credentialsFrom } from "../aws.ts";
import { parseCommandLine, type CliCommand } from "../io.ts";

/** Where the NixOS module writes the boot settings. */
const DEFAULT_SETTINGS = "/etc/clawdinator/boot-settings.json";

export const OPTIONS = { settings: { type: "string" } } as const;

/**
 * `clawdinator boot [--settings FILE]`: the instance's boot service (clawdinator-boot.service).
 * Fetches and verifies the bootstrap bundle, decrypts the secrets, writes the gateway's config and
 * mounts the hive mind. Logs JSON lines to stderr (the journal); prints a one-line summary.
 */
export const command: CliCommand = {
  async run(args, io) {
    const { values } = parseCommandLine(args, { options: OPTIONS });
    const settings = await loadBootSettings(values.settings ?? DEFAULT_SETTINGS);
    const log = createLogger({ level: io.logLevel ?? "info", sink: stderrSink(io.stderr, io.env), name: "clawdinator-boot" });
    const [{ openBootAws }, { runBoot }, { reportBoot }] = await Promise.all([
      import("../../agent/boot/aws.ts"),
      import("../../agent/boot/boot.ts"),
      import("../../agent/ops/boot-report.ts"),
    ]);
    // On an instance the environment has no keys: the SDK's chain, the instance role through IMDS.
    const credentials = credentialsFrom(io.env);
    const aws = await openBootAws(settings, { credentials });
    let result;
    try {
      result = await runBoot(settings, { aws, log });
    } catch (error) {
      // The health report says why (status/<instance>.json); then systemd retries the unit.
      await reportBoot({ aws, settings, outcome: { result: "failed", error }, version: packageJson.version, log, credentials });
      throw error;
    }
    await reportBoot({ aws, settings, outcome: { result: "success" }, version: packageJson.version, log, credentials });
    io.stdout.write(
      `${result.instance}: ${result.secrets.length} secret(s) in place, config ${result.configFile}, ` +
        `${result.changed.length === 0 ? "nothing changed" : `${result.changed.length} change(s)`}${result.mounted ? ", hive mind mounted" : ""}\n`,
    );
    return 0;
  },
};
