// `node claim.ts ROOT KEY TTL_MS`: races for one claim after the start barrier; prints won/lost.
import { arg, openWorkerStore, startBarrier } from "./common.ts";

const store = await openWorkerStore(arg(0, "root"));
const key = arg(1, "key");
const ttl = Number(arg(2, "ttl"));
await startBarrier();
process.stdout.write(`${(await store.claim(key, ttl)) ? "won" : "lost"} ${store.instance}\n`);
