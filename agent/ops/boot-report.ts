// The boot service's part of the health report: whether `clawdinator boot` succeeded (or why not),
// with the instance and image ids from IMDS. It never stops or fails the boot: a report that cannot
// be written is logged, and the gateway's heartbeat publishes the section later.
import path from "node:path";
import type { Logger } from "pino";
import type { BootAws } from "../boot/aws.ts";
import { parseUserData } from "../boot/contract.ts";
import type { BootSettings } from "../boot/settings.ts";
import { StatusReporter } from "./status.ts";
import { openS3Store, type ObjectStore, type S3StoreOptions } from "./store.ts";

export type BootOutcome = { readonly result: "success" } | { readonly result: "failed"; readonly error: unknown };

export interface BootReportInput {
  readonly aws: BootAws;
  readonly settings: BootSettings;
  readonly outcome: BootOutcome;
  readonly version: string;
  readonly log: Logger;
  /** Tests pass s3rver's store; unset: the bucket named in the user data, through the SDK. */
  readonly store?: ObjectStore;
  /** For that bucket; unset: the SDK's default chain (the instance role). */
  readonly credentials?: S3StoreOptions["credentials"];
  readonly now?: () => Date;
}

/** `status/` section files live beside the gateway's config: `<runDir>/status` (tmpfs). */
export function statusDirOf(settings: Pick<BootSettings, "runDir">): string {
  return path.join(settings.runDir, "status");
}

export async function reportBoot(input: BootReportInput): Promise<void> {
  const { aws, settings, log } = input;
  const now = input.now ?? (() => new Date());
  let store = input.store;
  try {
    const location = parseUserData(await aws.userData());
    const identity = await aws.identity?.().catch(() => undefined);
    if (!store) {
      const region = settings.region ?? (await aws.region());
      store = await openS3Store({ bucket: location.bucket, region, endpoint: settings.endpoints.s3, credentials: input.credentials });
    }
    const reporter = new StatusReporter({ instance: location.instance, agentVersion: input.version, factsDir: statusDirOf(settings), store, secrets: [], now });
    const { outcome } = input;
    await reporter.update("boot", {
      result: outcome.result,
      detail: outcome.result === "failed" ? describe(outcome.error) : null,
      at: now().toISOString(),
      instanceId: identity && /^i-[0-9a-f]{8,17}$/.test(identity.instanceId) ? identity.instanceId : null,
      imageId: identity && /^ami-[0-9a-f]{8,17}$/.test(identity.imageId) ? identity.imageId : null,
    });
  } catch (error) {
    log.warn({ err: error }, "could not publish the boot status; the gateway's heartbeat will");
  } finally {
    if (!input.store) store?.close();
  }
}

/** The error's code and first line: what an operator reads in `fleet status`, never a stack. */
function describe(error: unknown): string {
  const code = error !== null && typeof error === "object" && "code" in error && typeof error.code === "string" ? `${error.code}: ` : "";
  const message = error instanceof Error ? error.message : String(error);
  return `${code}${message.split("\n")[0] ?? ""}`.slice(0, 300);
}
