// `node write-loop.ts ROOT FILE BYTES`: replaces FILE forever, alternating two large contents made of
// one repeated letter ("A..." / "B..."), so any mix or truncation is visible. Killed by the test.
import { arg, openWorkerStore } from "./common.ts";

const store = await openWorkerStore(arg(0, "root"));
const file = arg(1, "file");
const bytes = Number(arg(2, "bytes"));
const contents = ["A".repeat(bytes), "B".repeat(bytes)];
for (let i = 0; ; i++) {
  await store.write(file, contents[i % 2] ?? "");
  if (i === 1) process.stdout.write("writing\n");
}
