// The in-place lane: `clawdinator self-update`, run by a systemd timer (or by hand). It switches the
// host to the release the fleet pins, and only to that: it never runs a host-local `flake update`
// (the upstream's hosts drifted that way). The decisions are here, as plain TypeScript; the system
// commands (nix, switch-to-configuration) are injected, so every branch is tested without a host.
//
//   lock (a timer run and a manual run never overlap)
//   → read the pinned release → known bad? stop (never retried)
//   → already running it? stop → realise it (build or fetch its closure) → running it? stop
//   → switch → wait for the gateway's health within a bound
//   → healthy: done. Unhealthy, or the switch failed: switch back to the system that ran before,
//     remember the release as bad, and say so in the status.
import { execFile } from "node:child_process";
import { mkdir, readFile, realpath } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../memory/atomic.ts";
import { MemoryLockTimeoutError } from "../memory/errors.ts";
import { localLockOwner, withLock } from "../memory/lock.ts";
import type { Verdict } from "./health.ts";
import type { GatewaySection, UpdateSection } from "./status.ts";

/** Where the fleet stack writes the pinned release, in the bootstrap bucket (infra/release.ts). */
export const RELEASE_KEY = "release/current.json";

const FULL_REVISION = /(^|[/?&=])[0-9a-f]{40}($|[&#/])/;
const STORE_PATH = /^\/nix\/store\/[0-9a-df-np-sv-z]{32}-[\w+.?=-]+$/;

export const ReleaseSchema = z.strictObject({
  version: z.literal(1),
  /** A flake ref pinned to one revision (`github:owner/repo/<40 hex>`, `git+https://…?rev=<40 hex>`). */
  flake: z.string().max(300).regex(FULL_REVISION, { error: "must pin a full 40-character git revision" }),
  nixosConfiguration: z.string().regex(/^[\w.-]+$/),
  /** The system's store path when the fleet knows it (from `nix eval`): then it is fetched, not built. */
  systemPath: z.string().regex(STORE_PATH).nullable(),
});
export type Release = z.infer<typeof ReleaseSchema>;

/** How a release is named in the status and the known-bad list. */
export function releaseName(release: Release): string {
  return release.systemPath ?? `${release.flake}#${release.nixosConfiguration}`;
}

/** The host side, injected: the real one runs nix and switch-to-configuration (`systemCommands`). */
export interface SelfUpdateSystem {
  /** The release the fleet pins, or undefined when it pins none. */
  readRelease(): Promise<Release | undefined>;
  /** The store path of the running system (`/run/current-system`). */
  currentSystem(): Promise<string>;
  /** Builds or fetches the release's system closure; resolves to its store path. */
  realise(release: Release): Promise<string>;
  /** Makes `systemPath` the system profile's generation and activates it. */
  activate(systemPath: string): Promise<void>;
  /** Resolves to the gateway's health once it is healthy from a report after `since`, or the last verdict at the deadline. */
  waitHealthy(since: Date, timeoutMs: number): Promise<Verdict>;
}

export interface SelfUpdateOptions {
  readonly system: SelfUpdateSystem;
  /** Puts the `update` section of this host's status (the report the fleet sees). */
  readonly report: (section: UpdateSection) => Promise<unknown>;
  /** Persistent folder: the lock and the known-bad list (survives reboots). */
  readonly stateDir: string;
  readonly healthTimeoutMs: number;
  readonly instance: string;
  readonly now?: () => Date;
  readonly log?: (message: string) => void;
}

export type SelfUpdateOutcome =
  | { readonly result: "no-release" }
  | { readonly result: "busy"; readonly detail: string }
  | { readonly result: "current"; readonly release: string }
  | { readonly result: "skipped-known-bad"; readonly release: string; readonly detail: string }
  | { readonly result: "realise-failed"; readonly release: string; readonly detail: string }
  | { readonly result: "switched"; readonly release: string; readonly systemPath: string }
  | { readonly result: "rolled-back"; readonly release: string; readonly detail: string }
  | { readonly result: "switch-failed"; readonly release: string; readonly detail: string };

const StateSchema = z.strictObject({
  knownBad: z.array(z.strictObject({ release: z.string(), reason: z.string(), at: z.string() })),
});
type State = z.infer<typeof StateSchema>;

const LOCK_STALE_MS = 60_000;

export async function selfUpdate(options: SelfUpdateOptions): Promise<SelfUpdateOutcome> {
  await mkdir(options.stateDir, { recursive: true, mode: 0o700 });
  const lockFile = path.join(options.stateDir, "self-update.lock");
  try {
    return await withLock(
      lockFile,
      "self-update",
      // waitMs 0: a second run does not queue behind the first; it says who holds the lock and stops.
      { staleMs: LOCK_STALE_MS, waitMs: 0, clock: Date.now, owner: localLockOwner(options.instance) },
      () => underLock(options),
    );
  } catch (error) {
    if (error instanceof MemoryLockTimeoutError) {
      const holder = error.holder ? `pid ${error.holder.pid} on ${error.holder.host}` : "another run";
      return { result: "busy", detail: `a self-update is already running (${holder}); this run did nothing` };
    }
    throw error;
  }
}

async function underLock(options: SelfUpdateOptions): Promise<SelfUpdateOutcome> {
  const { system } = options;
  const now = options.now ?? (() => new Date());
  const log = options.log ?? (() => {});
  const release = await system.readRelease();
  if (!release) return { result: "no-release" };
  const name = releaseName(release);
  const state = await loadState(options.stateDir);
  const bad = state.knownBad.find((entry) => entry.release === name);
  if (bad) {
    // Not reported again: the status keeps the report of the failure itself.
    return { result: "skipped-known-bad", release: name, detail: `known bad since ${bad.at}: ${bad.reason}` };
  }
  const before = await system.currentSystem();
  if (release.systemPath !== null && before === release.systemPath) return { result: "current", release: name };

  let target: string;
  try {
    log(`realising ${name}`);
    target = await system.realise(release);
  } catch (error) {
    // Often transient (a network or cache problem): reported, not marked bad, tried again next run.
    const detail = `could not realise it: ${firstLine(error)}`;
    await options.report({ result: "realise-failed", release: name, detail, at: now().toISOString() });
    return { result: "realise-failed", release: name, detail };
  }
  if (target === before) return { result: "current", release: name };

  const switchedAt = now();
  try {
    log(`switching ${before} → ${target}`);
    await system.activate(target);
  } catch (error) {
    const detail = `switch failed (${firstLine(error)}); ${await switchBack(system, before)}`;
    await markBad(options.stateDir, state, name, detail, now());
    await options.report({ result: "switch-failed", release: name, detail, at: now().toISOString() });
    return { result: "switch-failed", release: name, detail };
  }
  const verdict = await system.waitHealthy(switchedAt, options.healthTimeoutMs);
  if (verdict.healthy) {
    await options.report({ result: "switched", release: name, detail: null, at: now().toISOString() });
    return { result: "switched", release: name, systemPath: target };
  }
  const detail = `not healthy after the switch (${verdict.reason}); ${await switchBack(system, before)}`;
  await markBad(options.stateDir, state, name, detail, now());
  await options.report({ result: "rolled-back", release: name, detail, at: now().toISOString() });
  return { result: "rolled-back", release: name, detail };
}

/** Back to the system that ran before: named explicitly, so a switch that failed halfway cannot roll back one generation too far. */
async function switchBack(system: SelfUpdateSystem, before: string): Promise<string> {
  try {
    await system.activate(before);
    return `rolled back to ${before}`;
  } catch (error) {
    return `ROLLBACK FAILED (${firstLine(error)}): the next boot starts ${before}'s generation only if the bootloader still lists it`;
  }
}

async function loadState(dir: string): Promise<State> {
  try {
    return StateSchema.parse(JSON.parse(await readFile(path.join(dir, "state.json"), "utf8")));
  } catch {
    return { knownBad: [] };
  }
}

async function markBad(dir: string, state: State, release: string, reason: string, at: Date): Promise<void> {
  const next: State = { knownBad: [...state.knownBad, { release, reason: reason.slice(0, 300), at: at.toISOString() }].slice(-50) };
  await writeFileAtomic(path.join(dir, "state.json"), `${JSON.stringify(next, null, 2)}\n`);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split("\n").find((line) => line.trim() !== "") ?? "unknown error").trim().slice(0, 200);
}

// ---------------------------------------------------------------------------------------------
// The real host: nix and switch-to-configuration, through one injectable runner.

/** Runs a command to completion; rejects with its stderr's first lines on a non-zero exit. */
export type CommandRunner = (command: string, args: readonly string[]) => Promise<string>;

export const runCommand: CommandRunner = (command, args) =>
  new Promise((resolve, reject) => {
    execFile(command, [...args], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args[0] ?? ""} failed: ${String(stderr).trim().split("\n").slice(-3).join(" ") || error.message}`));
      else resolve(String(stdout));
    });
  });

export interface HostPaths {
  /** @default "/nix/var/nix/profiles/system" */
  readonly systemProfile: string;
  /** @default "/run/current-system" */
  readonly currentSystem: string;
  /** @default "nix" */
  readonly nix: string;
  /** @default "nix-env" */
  readonly nixEnv: string;
}

export const HOST_PATHS = {
  systemProfile: "/nix/var/nix/profiles/system",
  currentSystem: "/run/current-system",
  nix: "nix",
  nixEnv: "nix-env",
} as const satisfies HostPaths;

/** The system commands of a NixOS host. `readRelease` and `waitHealthy` come from the caller (S3, the status sections). */
export function systemCommands(run: CommandRunner, paths: HostPaths = HOST_PATHS): Pick<SelfUpdateSystem, "currentSystem" | "realise" | "activate"> {
  return {
    currentSystem: () => realpath(paths.currentSystem),
    async realise(release) {
      // The pinned ref with its own lock file, never updated here: the fleet decides what runs.
      const args =
        release.systemPath !== null
          ? ["build", "--no-link", "--print-out-paths", release.systemPath]
          : [
              "build",
              "--no-link",
              "--print-out-paths",
              "--no-update-lock-file",
              "--no-write-lock-file",
              `${release.flake}#nixosConfigurations.${release.nixosConfiguration}.config.system.build.toplevel`,
            ];
      const out = (await run(paths.nix, ["--extra-experimental-features", "nix-command flakes", ...args])).trim().split("\n").at(-1) ?? "";
      if (!STORE_PATH.test(out)) throw new Error(`nix build printed no store path (got "${out.slice(0, 100)}")`);
      if (release.systemPath !== null && out !== release.systemPath) throw new Error(`nix built ${out}, not the pinned ${release.systemPath}`);
      return out;
    },
    async activate(systemPath) {
      await run(paths.nixEnv, ["--profile", paths.systemProfile, "--set", systemPath]);
      await run(path.join(systemPath, "bin/switch-to-configuration"), ["switch"]);
    },
  };
}

/** Waits for a gateway report written after `since` that says connected (the gateway heartbeats its section). */
export function gatewayHealth(
  readGateway: () => Promise<GatewaySection | undefined>,
  clock: { now: () => Date; sleep: (ms: number) => Promise<void>; pollMs: number },
): SelfUpdateSystem["waitHealthy"] {
  return async (since, timeoutMs) => {
    const deadline = clock.now().getTime() + timeoutMs;
    for (;;) {
      const gateway = await readGateway();
      let verdict: Verdict;
      if (!gateway || Date.parse(gateway.heartbeatAt) <= since.getTime()) {
        verdict = { healthy: false, code: "gateway-missing", reason: "the gateway has not reported since the switch" };
      } else if (gateway.state !== "connected") {
        verdict = { healthy: false, code: "gateway-down", reason: `gateway ${gateway.state}${gateway.reason ? `: ${gateway.reason}` : ""}` };
      } else {
        return { healthy: true };
      }
      if (clock.now().getTime() >= deadline) return verdict;
      await clock.sleep(Math.min(clock.pollMs, Math.max(0, deadline - clock.now().getTime())));
    }
  };
}
