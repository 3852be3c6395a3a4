// `node counter.ts ROOT FILE COUNT`: COUNT increments of {"count": n} in FILE through store.edit.
import { arg, openWorkerStore, startBarrier } from "./common.ts";

const store = await openWorkerStore(arg(0, "root"));
const file = arg(1, "file");
const count = Number(arg(2, "count"));
await startBarrier();
for (let i = 0; i < count; i++) {
  await store.edit(file, (current) => {
    const n = current === "" ? 0 : (JSON.parse(current) as { count: number }).count;
    return JSON.stringify({ count: n + 1 });
  });
}
process.stdout.write("done\n");
