import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { assetPath } from "../assets.ts";
import { errorCode } from "../config/errors.ts";
import { hardRulesMarkdown } from "./rules.ts";

/**
 * The workspace: SOUL.md, IDENTITY.md, AGENTS.md and skills/, written once for every unit with
 * `{{placeholders}}`, rendered for one instance (its name substituted, the hard rules filled in
 * from code). The rendered files are what `clawdinator workspace render` writes and what the
 * system prompt is distilled from. Only markdown files belong to the workspace.
 */

const REQUIRED_FILES = ["SOUL.md", "IDENTITY.md", "AGENTS.md"] as const;

/** The workspace that ships with the agent (`workspace/` under the asset root, agent/assets.ts): used when `workspaceDir` is unset. */
export const SHIPPED_WORKSPACE: string = assetPath("workspace");

export interface WorkspaceFile {
  /** Relative to the workspace folder, with forward slashes. */
  readonly path: string;
  readonly content: string;
}

export interface RenderedWorkspace {
  readonly instance: string;
  readonly files: readonly WorkspaceFile[];
}

export type WorkspaceErrorCode = "missing-file" | "unreadable" | "unknown-placeholder" | "budget-too-small";

/** The workspace cannot be used as it is; `fix` says what to change. */
export class WorkspaceError extends Error {
  override readonly name = "WorkspaceError";
  readonly code: WorkspaceErrorCode;
  /** The file concerned, or the folder. */
  readonly file: string;
  readonly problem: string;
  readonly fix: string;

  constructor(code: WorkspaceErrorCode, file: string, problem: string, fix: string) {
    super(`${file}: ${problem}. ${fix}`);
    this.code = code;
    this.file = file;
    this.problem = problem;
    this.fix = fix;
  }
}

/** The values a template may use: `{{instance}}`, `{{instanceNumber}}`, `{{hardRules}}`. */
function templateVariables(instance: string): Readonly<Record<string, string>> {
  return {
    instance,
    instanceNumber: instance.replace(/^.*-/, ""),
    hardRules: hardRulesMarkdown(),
  };
}

/** Substitutes every `{{name}}`; an unknown name is an error, so a typo never reaches the model. */
function renderTemplate(text: string, variables: Readonly<Record<string, string>>, file: string): string {
  return text.replace(/\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g, (_match, name: string) => {
    const value = variables[name];
    if (value === undefined) {
      throw new WorkspaceError(
        "unknown-placeholder",
        file,
        `unknown placeholder {{${name}}}`,
        `Use one of ${Object.keys(variables).map((v) => `{{${v}}}`).join(", ")}.`,
      );
    }
    return value;
  });
}

/** Reads every markdown file of the workspace folder and renders it for `instance`. */
export async function loadWorkspace(dir: string, instance: string): Promise<RenderedWorkspace> {
  let entries: string[];
  try {
    entries = (await readdir(dir, { recursive: true })).map((p) => p.split(path.sep).join("/"));
  } catch (error) {
    throw new WorkspaceError(
      "unreadable",
      dir,
      `cannot read the workspace folder (${errorCode(error)})`,
      'Set "workspaceDir" to the folder holding SOUL.md, IDENTITY.md and AGENTS.md.',
    );
  }
  for (const required of REQUIRED_FILES) {
    if (!entries.includes(required)) {
      throw new WorkspaceError(
        "missing-file",
        path.join(dir, required),
        "missing",
        `Every workspace needs ${REQUIRED_FILES.join(", ")}; check "workspaceDir" (the repository's workspace/ has them).`,
      );
    }
  }
  const variables = templateVariables(instance);
  const files: WorkspaceFile[] = [];
  for (const relative of entries.filter((p) => p.endsWith(".md")).sort()) {
    const content = await readFile(path.join(dir, relative), "utf8");
    files.push({ path: relative, content: renderTemplate(content, variables, path.join(dir, relative)) });
  }
  return { instance, files };
}

/** Writes a rendered workspace under `outDir`; returns the paths written. */
export async function writeWorkspace(workspace: RenderedWorkspace, outDir: string): Promise<string[]> {
  const written: string[] = [];
  for (const file of workspace.files) {
    const target = path.join(outDir, file.path);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, file.content);
    written.push(target);
  }
  return written;
}
