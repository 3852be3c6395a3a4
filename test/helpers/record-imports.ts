// Preloaded with `node --import` by test/agent/lazy-clients.test.ts: records every module URL the
// process loads (ESM and CommonJS, through Node's synchronous module hooks) and writes them, one
// per line, to the file named by RECORD_IMPORTS_TO when the process exits.
import { writeFileSync } from "node:fs";
import { registerHooks } from "node:module";

const target = process.env.RECORD_IMPORTS_TO;
if (!target) throw new Error("record-imports: set RECORD_IMPORTS_TO to the file to write");
const loaded = new Set<string>();
registerHooks({
  load(url, context, nextLoad) {
    loaded.add(url);
    return nextLoad(url, context);
  },
});
process.on("exit", () => writeFileSync(target, [...loaded].join("\n")));
