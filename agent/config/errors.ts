/** One thing wrong with the configuration: where, what, and how to fix it. */
export interface ConfigProblem {
  /** Dotted path of the field, e.g. `githubApp.appId`; empty for the document itself. */
  readonly field: string;
  readonly problem: string;
  readonly fix: string;
}

/** A configuration the agent refuses to start with. Its message is written for the operator. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly problems: readonly ConfigProblem[];
  readonly source: string;

  constructor(source: string, problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => `  - ${p.field || "(document)"}: ${p.problem}. ${p.fix}`);
    super(`invalid configuration in ${source}:\n${lines.join("\n")}`);
    this.source = source;
    this.problems = problems;
  }
}

/** The errno-style code of a failed system call (`ENOENT`), or the message when there is none. */
export function errorCode(error: unknown): string {
  if (error instanceof Error && "code" in error && typeof error.code === "string") return error.code;
  return error instanceof Error ? error.message : String(error);
}
