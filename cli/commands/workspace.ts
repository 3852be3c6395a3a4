import path from "node:path";
import { buildSystemPrompt } from "../../agent/brain/prompt.ts";
import { loadWorkspace, SHIPPED_WORKSPACE, WorkspaceError, writeWorkspace } from "../../agent/brain/workspace.ts";
import { loadConfig } from "../../agent/config/load.ts";
import { INSTANCE_NAME } from "../../agent/config/schema.ts";
import { COMMON_HELP, parseCommandLine, UsageError, type CliCommand } from "../io.ts";

/** The distilled system prompt is written next to the docs; not markdown, so it is never read back as a workspace file. */
const SYSTEM_PROMPT_FILE = "system-prompt.txt";

/**
 * `clawdinator workspace render [--out DIR] [--instance CLAWDINATOR-n] [--config FILE]`: writes the
 * workspace rendered for one instance (name substituted, hard rules filled in) and the system
 * prompt distilled from it, and says how much of the token budget the prompt uses.
 */
export const OPTIONS = {
  out: { type: "string" },
  instance: { type: "string" },
  config: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const USAGE = `usage: clawdinator workspace render [--out DIR] [--instance CLAWDINATOR-n] [--config FILE]
  Writes the workspace rendered for one instance, and the system prompt distilled from it.

  --out DIR              where to write (default: .clawdinator/workspace/<instance>)
  --instance NAME        CLAWDINATOR-<n> (default: the config's instance)
  --config FILE          the agent's config file (else CLAWDINATOR_CONFIG): its workspaceDir and prompt budget`;

export const command: CliCommand = {
  async run(args, io) {
    const { values, positionals } = parseCommandLine(args, { options: OPTIONS, maxPositionals: 1, usage: USAGE });
    if (values.help) {
      io.stdout.write(`${USAGE}\n\n${COMMON_HELP}\n`);
      return 0;
    }
    if (positionals[0] !== "render") {
      throw new UsageError(positionals[0] === undefined ? "workspace needs an action" : `unknown workspace action "${positionals[0]}"`, { usage: USAGE });
    }
    const options = new Map(Object.entries(values).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
    const { config } = await loadConfig(options.get("config") ?? io.env.CLAWDINATOR_CONFIG, io.cwd);
    const instance = options.get("instance") ?? config.instance;
    if (!INSTANCE_NAME.test(instance)) {
      throw new UsageError(`--instance "${instance}" is not an instance name; use CLAWDINATOR-<n> with n from 1 to 9999, e.g. --instance CLAWDINATOR-2`);
    }
    const out = path.resolve(io.cwd, options.get("out") ?? path.join(".clawdinator", "workspace", instance));
    const source = config.workspaceDir ?? SHIPPED_WORKSPACE;
    try {
      const workspace = await loadWorkspace(source, instance);
      const prompt = buildSystemPrompt(workspace, config.brain.systemPromptTokenBudget);
      const written = await writeWorkspace(
        { instance, files: [...workspace.files, { path: SYSTEM_PROMPT_FILE, content: `${prompt.text}\n` }] },
        out,
      );
      io.stdout.write(
        [
          `Rendered the workspace for ${instance} from ${source} into ${out}:`,
          ...written.map((file) => `  ${path.relative(out, file)}`),
          `System prompt: ~${prompt.tokens} of ${prompt.budget} tokens (characters / 4); ` +
            (prompt.omitted.length === 0 ? "every section fits." : `left out for length: ${prompt.omitted.join("; ")}.`),
          "",
        ].join("\n"),
      );
      return 0;
    } catch (error) {
      if (error instanceof WorkspaceError) throw new UsageError(error.message);
      throw error;
    }
  },
};
