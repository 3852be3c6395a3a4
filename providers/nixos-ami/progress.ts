// Progress of a pipeline run. The provider prints it (a dynamic provider's console output is shown
// under the resource by the Pulumi CLI); the `clawdinator image` command draws bars.

export type PipelineStep = "identity" | "adopt" | "build" | "hash" | "upload" | "import" | "ebs-direct" | "register" | "retention" | "delete";

export interface ProgressEvent {
  readonly step: PipelineStep;
  readonly message: string;
  /** 0–100 when the step knows how far it is. */
  readonly percent?: number;
}

export type Reporter = (event: ProgressEvent) => void;

export const silentReporter: Reporter = () => {};

/**
 * Prints one line per event, and for percentages only when the whole-ten figure changes, so a long
 * import does not flood the Pulumi output.
 */
export function lineReporter(write: (line: string) => void, prefix = "nixos-ami"): Reporter {
  const lastDecile = new Map<string, number>();
  return (event) => {
    if (event.percent !== undefined) {
      const decile = Math.floor(event.percent / 10);
      const key = `${event.step}:${event.message}`;
      if (lastDecile.get(key) === decile && event.percent < 100) return;
      lastDecile.set(key, decile);
      write(`${prefix}: ${event.step} ${Math.round(event.percent)}% ${event.message}`);
      return;
    }
    write(`${prefix}: ${event.step}: ${event.message}`);
  };
}
