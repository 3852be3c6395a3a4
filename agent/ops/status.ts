// The health report an instance publishes about itself: `status/CLAWDINATOR-<n>.json` in the
// bootstrap bucket. Three processes contribute to it (the boot service, the gateway, the
// self-update timer), each through its own section file in a local folder, so no writer ever
// overwrites another's facts: whoever publishes composes every section it finds.
//
// No secret is ever in it. Every field is a fixed vocabulary, an id, a time or a short detail, and
// the composed document is scrubbed of every configured secret value before it leaves the host.
import { mkdir, readFile, readlink, realpath } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../memory/atomic.ts";
import type { ObjectStore } from "./store.ts";

/** Where an instance's report lives in the bootstrap bucket. */
export const STATUS_PREFIX = "status/";

export function statusKey(instance: string): string {
  return `${STATUS_PREFIX}${instance}.json`;
}

const time = z.iso.datetime();
/** Short, single-line, never a stack trace. */
const detail = z.string().max(300).nullable();
/** An error class name (`RateLimitError`, `DiscordTransportError[token-rejected]`), never its message. */
const errorClass = z.string().regex(/^[\w.:[\]-]{1,100}$/);

const BootSection = z.strictObject({
  /** `success` once the bundle, the secrets and the hive mind are in place; `failed` says why in `detail`. */
  result: z.enum(["success", "failed", "running"]),
  detail,
  at: time,
  /** From IMDS at boot; unknown on a laptop. */
  instanceId: z.string().regex(/^i-[0-9a-f]{8,17}$/).nullable(),
  imageId: z.string().regex(/^ami-[0-9a-f]{8,17}$/).nullable(),
});

export const GATEWAY_STATES = ["starting", "connected", "disconnected", "stopped"] as const;

const GatewaySection = z.strictObject({
  state: z.enum(GATEWAY_STATES),
  /** Why it is not connected: an error code (`token-rejected`, `login-timeout`, `resuming`), never a message from the network. */
  reason: detail,
  /** When it entered this state. */
  since: time,
  /** The gateway's own last heartbeat: a running process writes it every interval. */
  heartbeatAt: time,
  transport: z.string().max(40),
});

const ErrorMark = z.strictObject({ class: errorClass, at: time });
const ErrorsSection = z.strictObject({ model: ErrorMark.nullable(), github: ErrorMark.nullable() });

export const UPDATE_RESULTS = ["switched", "rolled-back", "switch-failed", "realise-failed", "skipped-known-bad"] as const;

const UpdateSection = z.strictObject({
  result: z.enum(UPDATE_RESULTS),
  /** The release it concerned: the pinned flake ref, or the expected system path. */
  release: z.string().max(300),
  detail,
  at: time,
});

export const StatusDocumentSchema = z.strictObject({
  version: z.literal(1),
  instance: z.string().regex(/^CLAWDINATOR-[1-9][0-9]{0,3}$/),
  instanceId: z.string().nullable(),
  imageId: z.string().nullable(),
  /** `system.configurationRevision` of the running NixOS system (the git revision it was built from). */
  configurationRevision: z.string().max(100).nullable(),
  /** The running system's store path (`/run/current-system`). */
  systemPath: z.string().max(300).nullable(),
  agentVersion: z.string().max(40),
  /** `/proc/sys/kernel/random/boot_id`: a new value every boot. */
  bootId: z.string().max(64).nullable(),
  /** When the kernel booted (`btime` in /proc/stat). */
  bootedAt: time.nullable(),
  boot: BootSection.nullable(),
  gateway: GatewaySection.nullable(),
  lastError: ErrorsSection,
  update: UpdateSection.nullable(),
  /** When this document was published. */
  heartbeatAt: time,
});

export type StatusDocument = z.infer<typeof StatusDocumentSchema>;
export type BootSection = z.infer<typeof BootSection>;
export type GatewaySection = z.infer<typeof GatewaySection>;
export type ErrorsSection = z.infer<typeof ErrorsSection>;
export type UpdateSection = z.infer<typeof UpdateSection>;
export type UpdateResult = (typeof UPDATE_RESULTS)[number];

const SECTIONS = { boot: BootSection, gateway: GatewaySection, errors: ErrorsSection, update: UpdateSection } as const;
export type SectionName = keyof typeof SECTIONS;
interface Sections {
  boot: BootSection;
  gateway: GatewaySection;
  errors: ErrorsSection;
  update: UpdateSection;
}

/** A status object that does not parse; `key` names the object. */
export class StatusParseError extends Error {
  override readonly name = "StatusParseError";
  readonly key: string;
  constructor(key: string, problem: string) {
    super(`${key}: not a status document (${problem})`);
    this.key = key;
  }
}

export function parseStatus(key: string, text: string): StatusDocument {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new StatusParseError(key, "invalid JSON");
  }
  const parsed = StatusDocumentSchema.safeParse(value);
  if (!parsed.success) throw new StatusParseError(key, parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  return parsed.data;
}

/** Where the host facts come from; every path is injectable so tests run anywhere. */
export interface HostFactPaths {
  /** @default "/proc/sys/kernel/random/boot_id" */
  readonly bootIdFile: string;
  /** @default "/proc/stat" (its `btime` line) */
  readonly procStat: string;
  /** @default "/run/current-system" */
  readonly currentSystem: string;
  /** JSON `{ "configurationRevision": "…" }` written by the NixOS module. @default "/etc/clawdinator/release.json" */
  readonly releaseFile: string;
}

export const HOST_FACT_PATHS = {
  bootIdFile: "/proc/sys/kernel/random/boot_id",
  procStat: "/proc/stat",
  currentSystem: "/run/current-system",
  releaseFile: "/etc/clawdinator/release.json",
} as const satisfies HostFactPaths;

/** What this host is, read fresh at every publish (a switch changes the system path and revision). */
export interface HostFacts {
  readonly bootId: string | null;
  readonly bootedAt: string | null;
  readonly systemPath: string | null;
  readonly configurationRevision: string | null;
}

export async function readHostFacts(paths: HostFactPaths = HOST_FACT_PATHS): Promise<HostFacts> {
  const bootId = (await readOptional(paths.bootIdFile))?.trim() || null;
  const btime = /^btime (\d+)$/m.exec((await readOptional(paths.procStat)) ?? "")?.[1];
  const bootedAt = btime ? new Date(Number(btime) * 1000).toISOString() : null;
  const systemPath = await realpath(paths.currentSystem).catch(() => readlink(paths.currentSystem).catch(() => null));
  let configurationRevision: string | null = null;
  const release = await readOptional(paths.releaseFile);
  if (release) {
    try {
      const value = (JSON.parse(release) as { configurationRevision?: unknown }).configurationRevision;
      if (typeof value === "string" && /^[\w.+-]{1,100}$/.test(value)) configurationRevision = value;
    } catch {
      // a damaged file reports no revision rather than stopping the report
    }
  }
  return { bootId, bootedAt, systemPath, configurationRevision };
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch {
    return undefined;
  }
}

export interface StatusReporterOptions {
  readonly instance: string;
  readonly agentVersion: string;
  /** Local folder of section files (tmpfs on an instance: the facts are per boot). */
  readonly factsDir: string;
  /** Where the composed document goes; absent: sections are kept locally only. */
  readonly store?: ObjectStore;
  /** Every configured secret value: none may appear in a published document. */
  readonly secrets: Iterable<string | undefined>;
  readonly hostFacts?: () => Promise<HostFacts>;
  readonly now?: () => Date;
}

const REDACTED = "[redacted]";

/**
 * Writes one section, composes the whole document from every section on this host, and publishes
 * it. Each process owns its sections (boot: `boot`; gateway: `gateway`, `errors`; self-update:
 * `update`), so a section file has a single writer and a publish never loses another's facts.
 */
export class StatusReporter {
  private readonly options: StatusReporterOptions;
  private readonly needles: string[];
  private readonly now: () => Date;

  constructor(options: StatusReporterOptions) {
    this.options = options;
    this.now = options.now ?? (() => new Date());
    const needles = new Set<string>();
    for (const value of options.secrets) {
      if (!value || value.length < 4) continue;
      needles.add(value);
      needles.add(JSON.stringify(value).slice(1, -1));
      for (const line of value.split("\n")) if (line.trim().length >= 16) needles.add(line.trim());
    }
    this.needles = [...needles].sort((a, b) => b.length - a.length);
  }

  get key(): string {
    return statusKey(this.options.instance);
  }

  /** Records a section (validated, scrubbed) and publishes. */
  async update<S extends SectionName>(section: S, value: Sections[S]): Promise<StatusDocument> {
    const checked = SECTIONS[section].parse(JSON.parse(this.scrub(JSON.stringify(value))));
    await mkdir(this.options.factsDir, { recursive: true, mode: 0o755 });
    await writeFileAtomic(path.join(this.options.factsDir, `${section}.json`), `${JSON.stringify(checked)}\n`);
    return this.publish();
  }

  /** Reads back one section this host recorded, if any. */
  async section<S extends SectionName>(section: S): Promise<Sections[S] | undefined> {
    const text = await readOptional(path.join(this.options.factsDir, `${section}.json`));
    if (text === undefined) return undefined;
    try {
      return SECTIONS[section].parse(JSON.parse(text)) as Sections[S];
    } catch {
      return undefined; // a damaged section is reported as absent, and rewritten by its owner
    }
  }

  /** Composes the document from the sections and host facts as they are now. */
  async compose(): Promise<StatusDocument> {
    const host = await (this.options.hostFacts ?? (() => readHostFacts()))();
    const [boot, gateway, errors, update] = await Promise.all([this.section("boot"), this.section("gateway"), this.section("errors"), this.section("update")]);
    const document: StatusDocument = {
      version: 1,
      instance: this.options.instance,
      instanceId: boot?.instanceId ?? null,
      imageId: boot?.imageId ?? null,
      configurationRevision: host.configurationRevision,
      systemPath: host.systemPath,
      agentVersion: this.options.agentVersion,
      bootId: host.bootId,
      bootedAt: host.bootedAt,
      boot: boot ?? null,
      gateway: gateway ?? null,
      lastError: errors ?? { model: null, github: null },
      update: update ?? null,
      heartbeatAt: this.now().toISOString(),
    };
    // Belt and braces: the schema admits no free text beyond short details, and those are scrubbed too.
    return StatusDocumentSchema.parse(JSON.parse(this.scrub(JSON.stringify(document))));
  }

  /** Composes and uploads. The body is checked once more for secret values right before it leaves. */
  async publish(): Promise<StatusDocument> {
    const document = await this.compose();
    const body = `${JSON.stringify(document, null, 2)}\n`;
    if (this.needles.some((needle) => body.includes(needle))) throw new Error("status document still holds a secret value after scrubbing; not published");
    await this.options.store?.put(this.key, body);
    return document;
  }

  private scrub(text: string): string {
    let out = text;
    for (const needle of this.needles) if (out.includes(needle)) out = out.split(needle).join(REDACTED);
    return out;
  }
}

/** The class of an error as the status may carry it: its name, and its code when it has one. */
export function errorClassOf(error: unknown): string {
  const name = error instanceof Error ? error.name : typeof error;
  const code = error !== null && typeof error === "object" && "code" in error && (typeof error.code === "string" || typeof error.code === "number") ? String(error.code) : undefined;
  const raw = code !== undefined && /^[\w.-]{1,40}$/.test(code) ? `${name}[${code}]` : name;
  const cleaned = raw.replace(/[^\w.:[\]-]/g, "_").slice(0, 100);
  return cleaned === "" ? "Error" : cleaned;
}
