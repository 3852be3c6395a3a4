// `node hold.ts ROOT FILE`: takes FILE's lock through edit and never lets go (until killed).
import { arg, openWorkerStore } from "./common.ts";

const store = await openWorkerStore(arg(0, "root"));
await store.edit(arg(1, "file"), () => {
  process.stdout.write("holding\n");
  return new Promise<string>(() => setInterval(() => undefined, 60_000));
});
