import type { ReplyFile } from "../transport/types.ts";
import type { SandboxResult } from "../sandbox/runner.ts";
import type { CoderOutcome, TaskEnd } from "./coder.ts";
import type { TaskDiff } from "./folder.ts";
import type { TargetKind } from "./service.ts";

export interface ReportInput {
  readonly id: string;
  readonly target: string;
  readonly kind: TargetKind;
  readonly model: string;
  readonly outcome: CoderOutcome;
  readonly diff: TaskDiff;
  readonly applied: readonly string[];
  readonly skipped: readonly string[];
  readonly seconds: number;
  readonly maxPatchBytes: number;
}

/** Characters of the last command's output shown in the post. */
const OUTPUT_CHARS = 900;
const SUMMARY_CHARS = 1_200;

const ENDS: Record<TaskEnd, string> = {
  finished: "finished",
  "max-steps": "stopped at the step limit (coding.maxSteps)",
  "max-tokens": "stopped at the token limit (coding.maxTokens)",
  timeout: "stopped at the time limit (coding.taskTimeoutMs)",
  "model-error": "stopped: the coding model failed",
  incomplete: "stopped: the model ran out of output tokens",
};

/**
 * What is posted for a task: a summary, the last command with its exit code and trimmed output,
 * and the diff as a file attachment. The summary and output are the coding model's and the
 * sandbox's words, so they are quoted and code-fenced, never written as the agent's own.
 */
export function formatReport(input: ReportInput): { text: string; files: ReplyFile[] } {
  const { outcome, diff } = input;
  const lines = [
    `Coding task ${input.id} on ${input.kind === "repo" ? `repo "${input.target}"` : input.target} (${input.model}): ${ENDS[outcome.end]} after ${outcome.steps} step${outcome.steps === 1 ? "" : "s"}, ${outcome.tokens} tokens, ${input.seconds.toFixed(1)} s.`,
  ];
  if (outcome.error) lines.push(`Error: ${outcome.error}`);
  if (outcome.summary) lines.push("Summary (the coding model's words):", ...clip(outcome.summary, SUMMARY_CHARS).split("\n").map((line) => `> ${line}`));
  const last = outcome.commands.at(-1);
  if (last) {
    lines.push(`Last command (${outcome.commands.length} run): \`${inline(clip(last.command, 200))}\` → ${describeRun(last.result)}`);
    const output = last.result.output.trim();
    if (output) lines.push(`\`\`\`\n${fence(tail(output, OUTPUT_CHARS))}\n\`\`\``);
  } else {
    lines.push("No command was run.");
  }
  const files: ReplyFile[] = [];
  if (diff.files.length === 0) {
    lines.push("No files changed.");
  } else {
    const name = `${input.id}.patch`;
    const bytes = Buffer.byteLength(diff.patch);
    const patch = bytes > input.maxPatchBytes ? `${Buffer.from(diff.patch).subarray(0, input.maxPatchBytes).toString("utf8")}\n[patch cut at ${input.maxPatchBytes} bytes]\n` : diff.patch;
    files.push({ name, content: patch, contentType: "text/x-diff" });
    const shown = diff.files.slice(0, 10).join(", ") + (diff.files.length > 10 ? `, … (${diff.files.length - 10} more)` : "");
    lines.push(`Changed ${diff.files.length} file${diff.files.length === 1 ? "" : "s"} (+${diff.added} −${diff.removed}): ${shown}. The diff is attached as ${name}.`);
    if (input.kind === "repo") {
      lines.push("Nothing was applied or pushed: GitHub stays read-only. A maintainer applies it with `git apply " + name + "`.");
    } else if (input.applied.length > 0) {
      lines.push(`Applied to my ${input.kind}: ${input.applied.join(", ")}.${input.kind === "workspace" ? " The workspace is read at start: restart me to use it." : ""}`);
    } else if (input.kind === "workspace") {
      lines.push("My workspace ships in my repository here, so this is a patch for a maintainer, not applied.");
    }
    if (input.skipped.length > 0) lines.push(`Not applied (deletions, symlinks, non-markdown or too large): ${input.skipped.join(", ")}.`);
  }
  return { text: lines.join("\n"), files };
}

function tail(text: string, max: number): string {
  return text.length <= max ? text : `[… ${text.length - max} characters before]\n${text.slice(-max)}`;
}

/** Keeps sandbox text inside its code block. */
function fence(text: string): string {
  return text.replaceAll("```", "`\u200b``");
}

function inline(text: string): string {
  return text.replaceAll("`", "'").replace(/\s+/g, " ");
}

/** One line on how a sandboxed command ended. */
export function describeRun(result: SandboxResult): string {
  switch (result.end) {
    case "exited":
      return `exit code ${result.exitCode}`;
    case "signalled":
      return `killed by ${result.signal} (a limit: SIGXCPU is CPU time, SIGXFSZ file size, SIGKILL memory or CPU)`;
    case "wall-timeout":
      return "killed: wall-clock limit reached";
    case "output-limit":
      return `killed: output limit reached (${result.outputBytes} bytes and counting)`;
    case "aborted":
      return "killed: the task was cancelled";
  }
}

/** The head and tail of long text, with how much was left out between. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = Math.floor(max * 0.3);
  const tail = max - head;
  return `${text.slice(0, head)}\n[… ${text.length - max} characters left out …]\n${text.slice(-tail)}`;
}

