import { stat } from "node:fs/promises";
import path from "node:path";
import { ASSET_ROOT } from "../assets.ts";
import { SHIPPED_WORKSPACE } from "../brain/workspace.ts";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import type { MemoryStore } from "../memory/types.ts";
import { makeWorkRoot, SandboxRunner } from "../sandbox/runner.ts";
import { CodingService } from "./service.ts";

/**
 * The agent's own source tree, the `self` repository seed (a change to it is a patch, never
 * applied): the repository when the agent runs from its sources. The bundled artifact carries no
 * sources, so there `self` is absent and a checkout is configured under `coding.repos`.
 */
async function selfRepo(): Promise<Record<string, string>> {
  const isCheckout = (await stat(path.join(ASSET_ROOT, "agent", "main.ts")).catch(() => undefined))?.isFile() ?? false;
  return isCheckout ? { self: path.resolve(ASSET_ROOT) } : {};
}

export interface OpenCodingOptions {
  readonly config: Config;
  readonly apiKey: string;
  readonly memory: MemoryStore;
  readonly log: Logger;
}

/**
 * Builds the coding service from the configuration: finds bubblewrap (a SandboxUnavailableError
 * when it is missing: coding then stays off and `status` says why), prepares the task folder, and
 * loads the OpenAI SDK. Loaded on demand by the composition root, only when an OpenAI key is set.
 */
export async function openCoding({ config, apiKey, memory, log }: OpenCodingOptions): Promise<CodingService> {
  const { coding } = config;
  const { bwrap, ...limits } = coding.sandbox;
  const sandbox = await SandboxRunner.open({ bwrap, limits });
  const workRoot = path.resolve(coding.workDir);
  await makeWorkRoot(workRoot, sandbox.owner);
  const { OpenAICoder } = await import("./coder.ts");
  const coder = new OpenAICoder({
    apiKey,
    baseURL: config.endpoints.openai,
    model: config.models.code,
    limits: coding,
    sandbox,
    log: log.child({ component: "coder" }),
  });
  return new CodingService({
    coder,
    sandbox,
    workRoot,
    repos: { ...(await selfRepo()), ...coding.repos },
    defaultTarget: coding.defaultTarget,
    workspace: { dir: config.workspaceDir ?? SHIPPED_WORKSPACE, apply: config.workspaceDir !== undefined },
    memory,
    log: log.child({ component: "coding" }),
    keepTasks: coding.keepTasks,
  });
}
