// `node append.ts ROOT FILE COUNT ID`: COUNT appends of a self-checking line ("ID SEQ PAYLOAD #CHECK").
import { createHash } from "node:crypto";
import { arg, openWorkerStore, startBarrier } from "./common.ts";

const store = await openWorkerStore(arg(0, "root"));
const file = arg(1, "file");
const count = Number(arg(2, "count"));
const id = arg(3, "id");
await startBarrier();
for (let i = 0; i < count; i++) {
  const body = `${id} ${String(i).padStart(4, "0")} ${"x".repeat(40 + (i % 23))}`;
  await store.append(file, `${body} #${createHash("sha256").update(body).digest("hex").slice(0, 12)}`);
}
process.stdout.write("done\n");
