// `node append.ts ROOT FILE COUNT ID [PAYLOAD]`: COUNT appends of a self-checking line
// ("ID SEQ PAYLOAD #CHECK"); PAYLOAD is 40 characters and up unless given (a few KiB crosses pages).
import { appendLines, arg, openWorkerStore, startBarrier } from "./common.ts";

const store = await openWorkerStore(arg(0, "root"));
const file = arg(1, "file");
const count = Number(arg(2, "count"));
const id = arg(3, "id");
const payload = Number(process.argv[6] ?? "40");
await startBarrier();
await appendLines(store, file, count, id, payload);
process.stdout.write("done\n");
