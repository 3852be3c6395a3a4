// The gateway's part of the health report: its connection state on every change, the last model
// error class, and a heartbeat every `status.heartbeatSeconds`. Publishing never stops the agent:
// a failed upload is logged and the next heartbeat tries again.
import type { Config } from "../config/schema.ts";
import type { Secrets } from "../config/secrets.ts";
import type { Logger } from "../log.ts";
import { errorClassOf, StatusReporter, type ErrorsSection, type GatewaySection } from "./status.ts";
import { openStatusStore, type ObjectStore } from "./store.ts";

export type GatewayState = GatewaySection["state"];

export interface GatewayReporter {
  /** Records a state change (published at once). `reason` is a code, never a message from the network. */
  state(state: GatewayState, reason?: string | null): void;
  /** Records the class of a model (or GitHub) error that reached the maintainer. */
  error(kind: keyof ErrorsSection, error: unknown): void;
  /** Reports `stopped` (or the final state given: why it could not start), stops the heartbeat, waits for the last upload. */
  stop(final?: { state: GatewayState; reason: string | null }): Promise<void>;
}

export interface GatewayReportOptions {
  readonly config: Config;
  readonly secrets: Secrets;
  readonly version: string;
  readonly transport: string;
  readonly log: Logger;
  readonly env: NodeJS.ProcessEnv;
  /** Tests pass their own store and clock. */
  readonly store?: ObjectStore;
  readonly now?: () => Date;
}

/** Starts reporting when `status.bucket` is configured (an instance); undefined otherwise (a laptop). */
export async function startGatewayReport(options: GatewayReportOptions): Promise<GatewayReporter | undefined> {
  const { config, log } = options;
  const now = options.now ?? (() => new Date());
  let store = options.store;
  if (!store) {
    if (!config.status.bucket) return undefined;
    const region = config.status.region ?? options.env.AWS_REGION;
    if (!region) {
      log.warn('status.bucket is set but no region ("status.region" or AWS_REGION): health reports are off');
      return undefined;
    }
    store = await openStatusStore({ bucket: config.status.bucket, endpoint: config.status.endpoint }, region, options.env);
  }
  const reporter = new StatusReporter({
    instance: config.instance,
    agentVersion: options.version,
    factsDir: config.status.factsDir,
    store,
    secrets: Object.values(options.secrets),
    now,
  });
  let current: Omit<GatewaySection, "heartbeatAt"> = { state: "starting", reason: null, since: now().toISOString(), transport: options.transport };
  let errors: ErrorsSection = (await reporter.section("errors")) ?? { model: null, github: null };
  // One upload at a time, in order: a heartbeat never overtakes the state change before it.
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (work: () => Promise<unknown>): void => {
    queue = queue.then(work).then(
      () => undefined,
      (error: unknown) => log.warn({ err: error, bucket: store.bucket }, "could not publish the health report; the next heartbeat tries again"),
    );
  };
  const publishGateway = (): void => enqueue(() => reporter.update("gateway", { ...current, heartbeatAt: now().toISOString() }));
  publishGateway();
  const timer = setInterval(publishGateway, config.status.heartbeatSeconds * 1000);
  timer.unref();
  return {
    state(state, reason = null) {
      if (state === current.state && reason === current.reason) return;
      current = { ...current, state, reason, since: now().toISOString() };
      publishGateway();
    },
    error(kind, error) {
      errors = { ...errors, [kind]: { class: errorClassOf(error), at: now().toISOString() } };
      const snapshot = errors;
      enqueue(() => reporter.update("errors", snapshot));
    },
    async stop(final = { state: "stopped", reason: null }) {
      clearInterval(timer);
      current = { ...current, ...final, since: now().toISOString() };
      publishGateway();
      await queue;
      if (!options.store) store.close();
    },
  };
}
