#!/usr/bin/env node
// The `clawdinator` command. Plain JavaScript on purpose, for two reasons:
// - on a Node.js too old for this project's TypeScript, preflight.js explains and exits before
//   Node stops at the first `.ts` with a raw ERR_UNKNOWN_FILE_EXTENSION;
// - the compile cache is switched on before any TypeScript is loaded, so a warm start reuses the
//   stripped sources and V8's code for every module, cli/main.ts included, and never loads Node's
//   TypeScript stripper (about 100 ms of a 300 ms start).
import "./preflight.js";
import * as nodeModule from "node:module";

// Node < 22.1 has no enableCompileCache; preflight.js has already stopped such a Node.
nodeModule.enableCompileCache?.();
await import("./main.ts");
