// `node racer.ts`: one process for many races, so a test spends no node start per racer per race.
// Each round the parent writes `round {settings}`; the worker opens its store in ROOT with them
// (instance, clockOffsetMs, lockStaleMs...: see openWorkerStore) and prints "ready"; on "go" it runs
// the round's task and prints its verdict:
//   {"task": "claim", "root", "key", "ttlMs"}            "won INSTANCE" or "lost INSTANCE"
//   {"task": "counter", "root", "file", "count"}         "done" after COUNT edit increments
//   {"task": "append", "root", "file", "count", "id"}    "done" after COUNT self-checking appends
// It exits when stdin ends.
import { createInterface } from "node:readline";
import { appendLines, countUp, openWorkerStore } from "./common.ts";

interface Round {
  readonly task: "claim" | "counter" | "append";
  readonly root: string;
  readonly key?: string;
  readonly ttlMs?: number;
  readonly file?: string;
  readonly count?: number;
  readonly id?: string;
}

function required<T>(value: T | undefined, name: string, round: Round): T {
  if (value === undefined) throw new Error(`racer: a ${round.task} round needs "${name}"`);
  return value;
}

let round: Round | undefined;
let store: Awaited<ReturnType<typeof openWorkerStore>> | undefined;
for await (const line of createInterface({ input: process.stdin })) {
  if (line.startsWith("round ")) {
    const { task, root, key, ttlMs, file, count, id, ...storeSettings } = JSON.parse(line.slice("round ".length)) as Round & Record<string, unknown>;
    round = { task, root, key, ttlMs, file, count, id };
    store = await openWorkerStore(root, storeSettings);
    process.stdout.write("ready\n");
  } else if (line === "go") {
    if (!round || !store) throw new Error("racer: go before round");
    if (round.task === "claim") {
      const won = await store.claim(required(round.key, "key", round), required(round.ttlMs, "ttlMs", round));
      process.stdout.write(`${won ? "won" : "lost"} ${store.instance}\n`);
    } else if (round.task === "counter") {
      await countUp(store, required(round.file, "file", round), required(round.count, "count", round));
      process.stdout.write("done\n");
    } else if (round.task === "append") {
      await appendLines(store, required(round.file, "file", round), required(round.count, "count", round), required(round.id, "id", round));
      process.stdout.write("done\n");
    } else {
      throw new Error(`racer: unknown task ${JSON.stringify(round.task)}`);
    }
  }
}
