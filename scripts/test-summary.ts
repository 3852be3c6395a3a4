// A node:test reporter for scripts/test.ts: what one folder's run ended with, as one JSON line (its
// counts, and where each failed test is), so the runner can close with a summary of every folder.
// Node's own spec reporter prints the details beside it.
import type { TestEvent } from "node:test/reporters";

export interface RunSummary {
  readonly counts: { tests: number; passed: number; failed: number; cancelled: number; skipped: number; todo: number };
  readonly failures: readonly string[];
}

export default async function* summary(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const failures: string[] = [];
  for await (const event of source) {
    if (event.type === "test:fail" && event.data.details.type !== "suite") {
      const where = event.data.file === undefined ? "" : `${event.data.file}:${event.data.line ?? 0}: `;
      failures.push(`${where}${event.data.name}`);
    }
    // The run's own summary has no file; a file's (process isolation only) has one.
    if (event.type === "test:summary" && event.data.file === undefined) {
      // Node reports `failed` too; @types/node's TestSummary leaves it out.
      const { tests, passed, failed, cancelled, skipped, todo } = event.data.counts as typeof event.data.counts & { failed: number };
      const run: RunSummary = { counts: { tests, passed, failed, cancelled, skipped, todo }, failures };
      yield `${JSON.stringify(run)}\n`;
    }
  }
}
