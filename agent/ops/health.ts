// What "healthy" means, decided in one place for `clawdinator fleet status`, the deploy health gate
// (`fleet wait-healthy`) and the self-update's post-switch check.
import { formatUptime } from "../status.ts";
import { parseStatus, STATUS_PREFIX, statusKey, StatusParseError, type StatusDocument } from "./status.ts";
import type { ObjectStore } from "./store.ts";

export const HEALTH_DEFAULTS = {
  /** A gateway heartbeats every minute; three missed ones make it stale. */
  staleAfterMs: 180_000,
  /** The kernel's boot time and EC2's launch time come from different clocks; this much disagreement is tolerated. */
  bootClockSkewMs: 30_000,
  /** How often `wait-healthy` reads the status. */
  pollMs: 10_000,
} as const;

export type UnhealthyCode =
  | "missing"
  | "unreadable"
  | "stale"
  | "other-instance"
  | "previous-boot"
  | "boot-failed"
  | "booting"
  | "gateway-down"
  | "gateway-missing";

export type Verdict = { readonly healthy: true } | { readonly healthy: false; readonly code: UnhealthyCode; readonly reason: string };

export interface HealthCriteria {
  readonly now: Date;
  /** @default HEALTH_DEFAULTS.staleAfterMs */
  readonly staleAfterMs?: number;
  /** Only a boot at or after this time counts (the instance's launch time, for the deploy gate). */
  readonly bootAfter?: Date;
  /** Only a report from this EC2 instance counts (a replaced instance's report does not). */
  readonly instanceId?: string;
}

/** Healthy: fresh heartbeat, from the expected instance and boot, boot succeeded, gateway connected. */
export function assessHealth(status: StatusDocument | undefined, criteria: HealthCriteria): Verdict {
  if (!status) return { healthy: false, code: "missing", reason: "no status object: the instance never reported (not booted, or its boot service failed before reporting)" };
  const staleAfterMs = criteria.staleAfterMs ?? HEALTH_DEFAULTS.staleAfterMs;
  const age = criteria.now.getTime() - Date.parse(status.heartbeatAt);
  if (age > staleAfterMs) {
    return { healthy: false, code: "stale", reason: `heartbeat stale: last one ${formatAge(age)} ago (limit ${formatUptime(staleAfterMs)})${lastWords(status)}` };
  }
  if (criteria.instanceId !== undefined && status.instanceId !== criteria.instanceId) {
    return { healthy: false, code: "other-instance", reason: `status is from instance ${status.instanceId ?? "unknown"}, not ${criteria.instanceId}` };
  }
  if (criteria.bootAfter !== undefined) {
    const booted = status.bootedAt === null ? Number.NaN : Date.parse(status.bootedAt);
    if (!(booted >= criteria.bootAfter.getTime() - HEALTH_DEFAULTS.bootClockSkewMs)) {
      return {
        healthy: false,
        code: "previous-boot",
        reason: `status is from boot ${status.bootId ?? "unknown"} at ${status.bootedAt ?? "unknown"}, before ${criteria.bootAfter.toISOString()}: a previous boot`,
      };
    }
  }
  if (!status.boot) return { healthy: false, code: "booting", reason: "boot service has not reported yet" };
  if (status.boot.result === "failed") return { healthy: false, code: "boot-failed", reason: `boot service failed: ${status.boot.detail ?? "no detail"}` };
  if (status.boot.result === "running") return { healthy: false, code: "booting", reason: "boot service still running" };
  if (!status.gateway) return { healthy: false, code: "gateway-missing", reason: "gateway has not reported (not started, or crashed before its first report)" };
  if (status.gateway.state !== "connected") {
    return { healthy: false, code: "gateway-down", reason: `gateway ${status.gateway.state}${status.gateway.reason ? `: ${status.gateway.reason}` : ""} since ${status.gateway.since}` };
  }
  return { healthy: true };
}

function lastWords(status: StatusDocument): string {
  if (!status.gateway) return "";
  return `; last said gateway ${status.gateway.state}${status.gateway.reason ? ` (${status.gateway.reason})` : ""}`;
}

export function formatAge(ms: number): string {
  if (ms < 0) return "0s";
  return formatUptime(ms).split(" ").slice(0, 2).join(" ");
}

/** One instance in the fleet view. */
export interface FleetRow {
  readonly instance: string;
  readonly imageId: string | null;
  readonly configurationRevision: string | null;
  readonly healthy: boolean;
  /** Why not, when not. */
  readonly reason: string | null;
  readonly heartbeatAt: string | null;
  readonly heartbeatAgeSeconds: number | null;
  /** The last model/GitHub error class or failed update, newest first. */
  readonly lastError: string | null;
  readonly status: StatusDocument | null;
}

/** Reads every status object (plus the instances expected to report), and judges each. */
export async function fleetStatus(store: ObjectStore, options: { now: Date; staleAfterMs?: number; expected?: readonly string[] }): Promise<FleetRow[]> {
  const keys = await store.list(STATUS_PREFIX);
  const instances = new Set<string>(options.expected ?? []);
  for (const key of keys) {
    const match = /^status\/(CLAWDINATOR-[1-9][0-9]{0,3})\.json$/.exec(key);
    if (match?.[1]) instances.add(match[1]);
  }
  const rows = await Promise.all(
    [...instances].map(async (instance): Promise<FleetRow> => {
      const text = await store.get(statusKey(instance));
      let status: StatusDocument | undefined;
      let verdict: Verdict;
      try {
        status = text === undefined ? undefined : parseStatus(statusKey(instance), text);
        verdict = assessHealth(status, options);
      } catch (error) {
        if (!(error instanceof StatusParseError)) throw error;
        verdict = { healthy: false, code: "unreadable", reason: error.message };
      }
      const heartbeat = status ? Date.parse(status.heartbeatAt) : undefined;
      return {
        instance,
        imageId: status?.imageId ?? null,
        configurationRevision: status?.configurationRevision ?? null,
        healthy: verdict.healthy,
        reason: verdict.healthy ? null : verdict.reason,
        heartbeatAt: status?.heartbeatAt ?? null,
        heartbeatAgeSeconds: heartbeat === undefined ? null : Math.max(0, Math.round((options.now.getTime() - heartbeat) / 1000)),
        lastError: status ? lastErrorOf(status) : null,
        status: status ?? null,
      };
    }),
  );
  return rows.sort((a, b) => instanceNumber(a.instance) - instanceNumber(b.instance));
}

function instanceNumber(instance: string): number {
  return Number(instance.split("-")[1]);
}

function lastErrorOf(status: StatusDocument): string | null {
  const marks: Array<[string, string]> = [];
  if (status.lastError.model) marks.push([status.lastError.model.at, `model ${status.lastError.model.class}`]);
  if (status.lastError.github) marks.push([status.lastError.github.at, `github ${status.lastError.github.class}`]);
  if (status.update && status.update.result !== "switched") marks.push([status.update.at, `update ${status.update.result} ${status.update.release}`]);
  marks.sort((a, b) => b[0].localeCompare(a[0]));
  return marks[0]?.[1] ?? null;
}

/** The table `clawdinator fleet status` prints. Unhealthy rows say why on the line below. */
export function formatFleetTable(rows: readonly FleetRow[]): string {
  if (rows.length === 0) return "no instance has reported and none is expected (no status/ objects, no Pulumi.clawdinator-<n>.yaml here)";
  const header = ["INSTANCE", "IMAGE", "REVISION", "HEALTHY", "HEARTBEAT", "LAST ERROR"];
  const cells = rows.map((r) => [
    r.instance,
    r.imageId ?? "-",
    r.configurationRevision ? r.configurationRevision.slice(0, 12) : "-",
    r.healthy ? "yes" : "NO",
    r.heartbeatAgeSeconds === null ? "never" : `${formatAge(r.heartbeatAgeSeconds * 1000)} ago`,
    r.lastError ?? "-",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
  const line = (c: readonly string[]): string => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i] ?? 0))).join("  ").trimEnd();
  const out = [line(header)];
  rows.forEach((r, i) => {
    out.push(line(cells[i] ?? []));
    if (r.reason) out.push(`  └ ${r.reason}`);
  });
  const unhealthy = rows.filter((r) => !r.healthy).length;
  out.push("", unhealthy === 0 ? `${rows.length} of ${rows.length} healthy` : `${unhealthy} of ${rows.length} UNHEALTHY`);
  return out.join("\n");
}

/** The deploy gate (or a self-update) gave up: names the instance and the reason from its status. */
export class HealthGateError extends Error {
  override readonly name = "HealthGateError";
  readonly instance: string;
  readonly code: UnhealthyCode;
  constructor(instance: string, timeoutMs: number, verdict: Extract<Verdict, { healthy: false }>) {
    super(`${instance} did not report healthy within ${formatUptime(timeoutMs)}: ${verdict.reason}`);
    this.instance = instance;
    this.code = verdict.code;
  }
}

export interface WaitHealthyOptions extends Omit<HealthCriteria, "now"> {
  readonly instance: string;
  readonly timeoutMs: number;
  /** @default HEALTH_DEFAULTS.pollMs */
  readonly pollMs?: number;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Each unhealthy reading, for progress output. */
  readonly onWait?: (verdict: Extract<Verdict, { healthy: false }>) => void;
  readonly signal?: AbortSignal;
}

/** Polls the instance's status until it is healthy (resolves to it) or the timeout passes (HealthGateError). */
export async function waitHealthy(store: ObjectStore, options: WaitHealthyOptions): Promise<StatusDocument> {
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now().getTime() + options.timeoutMs;
  const key = statusKey(options.instance);
  for (;;) {
    options.signal?.throwIfAborted();
    const text = await store.get(key);
    let verdict: Verdict;
    let status: StatusDocument | undefined;
    try {
      status = text === undefined ? undefined : parseStatus(key, text);
      verdict = assessHealth(status, { ...options, now: now() });
    } catch (error) {
      if (!(error instanceof StatusParseError)) throw error;
      verdict = { healthy: false, code: "unreadable", reason: error.message };
    }
    if (verdict.healthy && status) return status;
    if (verdict.healthy) throw new Error("unreachable: healthy without a status");
    if (now().getTime() >= deadline) throw new HealthGateError(options.instance, options.timeoutMs, verdict);
    options.onWait?.(verdict);
    await sleep(Math.min(options.pollMs ?? HEALTH_DEFAULTS.pollMs, Math.max(0, deadline - now().getTime())));
  }
}
