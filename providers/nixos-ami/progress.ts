// Progress of a pipeline run. The provider prints it (a dynamic provider's console output is shown
// under the resource by the Pulumi CLI); the `clawdinator image` command draws bars.

export type PipelineStep = "identity" | "adopt" | "build" | "hash" | "upload" | "import" | "ebs-direct" | "register" | "retention" | "delete";

export interface ProgressEvent {
  readonly step: PipelineStep;
  readonly message: string;
  /** 0–100 when the step knows how far it is. */
  readonly percent?: number;
  /** Bytes done of the total, for a step that moves data (upload, ebs-direct): rate and ETA come from these. */
  readonly bytes?: { readonly done: number; readonly total: number };
}

export type Reporter = (event: ProgressEvent) => void;

export const silentReporter: Reporter = () => {};

/**
 * Prints one line per event, and for percentages only when the whole-ten figure changes (or, on a
 * long wait, every `everyMs` with the same figure), so a long import does not flood the Pulumi
 * output yet still shows it is alive.
 */
export function lineReporter(
  write: (line: string) => void,
  prefix = "nixos-ami",
  options: { readonly everyMs?: number; readonly now?: () => number } = {},
): Reporter {
  const { everyMs = 30_000, now = Date.now } = options;
  const last = new Map<string, { decile: number; at: number }>();
  return (event) => {
    if (event.percent !== undefined) {
      const decile = Math.floor(event.percent / 10);
      const key = `${event.step}:${event.message}`;
      const previous = last.get(key);
      if (previous?.decile === decile && event.percent < 100 && now() - previous.at < everyMs) return;
      last.set(key, { decile, at: now() });
      const bytes = event.bytes ? ` (${mebibytes(event.bytes.done)} of ${mebibytes(event.bytes.total)})` : "";
      write(`${prefix}: ${event.step} ${Math.round(event.percent)}% ${event.message}${bytes}`);
      return;
    }
    write(`${prefix}: ${event.step}: ${event.message}`);
  };
}

/** `12.3 MiB`. */
export function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
