import { loadBootSettings } from "../../agent/boot/settings.ts";
import { createLogger, ScrubbingSink } from "../../agent/log.ts";
import { parseOptions, UsageError, type CliCommand } from "../io.ts";

/** Where the NixOS module writes the boot settings. */
const DEFAULT_SETTINGS = "/etc/clawdinator/boot-settings.json";

/**
 * `clawdinator boot [--settings FILE]`: the instance's boot service (clawdinator-boot.service).
 * Fetches and verifies the bootstrap bundle, decrypts the secrets, writes the gateway's config and
 * mounts the hive mind. Logs JSON lines to stderr (the journal); prints a one-line summary.
 */
export const command: CliCommand = {
  async run(args, io) {
    const { options, positional } = parseOptions(args, ["settings"]);
    if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}"; usage: clawdinator boot [--settings FILE]`);
    const settings = await loadBootSettings(options.get("settings") ?? DEFAULT_SETTINGS);
    const log = createLogger({ level: "info", sink: new ScrubbingSink(2), name: "clawdinator-boot" });
    const [{ openBootAws }, { runBoot }] = await Promise.all([import("../../agent/boot/aws.ts"), import("../../agent/boot/boot.ts")]);
    const result = await runBoot(settings, { aws: await openBootAws(settings), log });
    io.stdout.write(
      `${result.instance}: ${result.secrets.length} secret(s) in place, config ${result.configFile}, ` +
        `${result.changed.length === 0 ? "nothing changed" : `${result.changed.length} change(s)`}${result.mounted ? ", hive mind mounted" : ""}\n`,
    );
    return 0;
  },
};
