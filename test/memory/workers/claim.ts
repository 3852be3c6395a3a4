// `node claim.ts ROOT KEY TTL_MS`: one process for several claim races. Each round the parent
// writes `round {settings}` (instance, clockOffsetMs: see openWorkerStore), the worker opens its
// store with them and prints "ready"; on "go" it races for the claim and prints "won|lost
// INSTANCE". It exits when stdin ends. Rounds spare a node start per racer per round.
import { createInterface } from "node:readline";
import { arg, openWorkerStore } from "./common.ts";

const root = arg(0, "root");
const key = arg(1, "key");
const ttl = Number(arg(2, "ttl"));
let store: Awaited<ReturnType<typeof openWorkerStore>> | undefined;
for await (const line of createInterface({ input: process.stdin })) {
  if (line.startsWith("round ")) {
    store = await openWorkerStore(root, JSON.parse(line.slice("round ".length)) as Record<string, unknown>);
    process.stdout.write("ready\n");
  } else if (line === "go") {
    if (!store) throw new Error("claim worker: go before round");
    process.stdout.write(`${(await store.claim(key, ttl)) ? "won" : "lost"} ${store.instance}\n`);
  }
}
