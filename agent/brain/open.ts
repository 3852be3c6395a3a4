import { ConfigError } from "../config/errors.ts";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import type { MemoryStore } from "../memory/types.ts";
import type { StatusReport } from "../status.ts";
import { builtinToolRegistry } from "../tools/index.ts";
import type { Tool } from "../tools/registry.ts";
import { ClaudeBrain } from "./claude.ts";
import { buildSystemPrompt } from "./prompt.ts";
import { loadWorkspace, SHIPPED_WORKSPACE, WorkspaceError } from "./workspace.ts";

export interface OpenClaudeBrainOptions {
  readonly config: Config;
  /** Where the config came from, for error messages. */
  readonly source: string;
  readonly apiKey: string;
  readonly log: Logger;
  readonly status: () => StatusReport;
  readonly scrub: (text: string) => string;
  /** The hive-mind store the agent opened (main.ts): the memory tools and the gists use it. */
  readonly memory: MemoryStore;
  /** Tools beyond the built-in ones (the coding task; fleet_spawn where an operator configured it). */
  readonly extraTools?: readonly Tool[];
  /** See ClaudeBrainOptions.onModelFailure. */
  readonly onModelFailure?: (error: unknown) => void;
  /** Project context (repo docs, fenced as data) appended to the system prompt, outside the workspace budget. */
  readonly context?: string;
}

/**
 * Builds the Claude brain from the configuration: renders the workspace for this instance,
 * distils the system prompt within `brain.systemPromptTokenBudget`, and sets up the tools on the
 * hive-mind store the agent opened. Loaded on demand by the composition root, so the SDK is only loaded with a key.
 * A workspace the agent cannot use stops it with a ConfigError naming the key to fix.
 */
export async function openClaudeBrain(options: OpenClaudeBrainOptions): Promise<ClaudeBrain> {
  const { config, source, log } = options;
  let systemPrompt;
  try {
    systemPrompt = buildSystemPrompt(await loadWorkspace(config.workspaceDir ?? SHIPPED_WORKSPACE, config.instance), config.brain.systemPromptTokenBudget);
  } catch (error) {
    if (!(error instanceof WorkspaceError)) throw error;
    throw new ConfigError(source, [
      error.code === "budget-too-small"
        ? { field: "brain.systemPromptTokenBudget", problem: error.problem, fix: error.fix }
        : { field: "workspaceDir", problem: `${error.file}: ${error.problem}`, fix: error.fix },
    ]);
  }
  if (systemPrompt.omitted.length > 0) {
    log.warn({ omitted: systemPrompt.omitted, budget: systemPrompt.budget }, "workspace sections left out of the system prompt for length");
  }
  if (options.context) {
    systemPrompt = { ...systemPrompt, text: `${systemPrompt.text}\n\n${options.context}`, tokens: systemPrompt.tokens + Math.ceil(options.context.length / 4) };
  }
  return new ClaudeBrain({
    apiKey: options.apiKey,
    baseURL: config.endpoints.anthropic,
    model: config.models.voice,
    instance: config.instance,
    systemPrompt,
    tools: builtinToolRegistry(options.extraTools),
    memory: options.memory,
    status: options.status,
    log,
    limits: config.brain,
    scrub: options.scrub,
    ...(options.onModelFailure ? { onModelFailure: options.onModelFailure } : {}),
  });
}
