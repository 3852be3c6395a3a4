// Plain JavaScript on purpose: it must run, and explain, on a Node.js too old to load this
// project's TypeScript (Node 20 stops at the first `.ts` with ERR_UNKNOWN_FILE_EXTENSION).
// cli/clawdinator.js imports it before anything else (and `npm test` runs it alone), so the first
// line a user sees on the wrong Node says what is wrong and how to fix it. Silent when all is well.
import { existsSync } from "node:fs";
import { fileURLToPath, URL } from "node:url";
import process from "node:process";

const NEEDED = [22, 18];
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (major < NEEDED[0] || (major === NEEDED[0] && minor < NEEDED[1])) {
  const platform = `${process.platform}-${process.arch}`;
  // Run directly (`node cli/clawdinator.js`) after `npm ci`: the right Node is already here.
  const installed = fileURLToPath(new URL("../node_modules/.bin/node", import.meta.url));
  const fix = existsSync(installed)
    ? `Fix: npm ci already installed Node.js 24 in node_modules/.bin; use it: \`npx clawdinator …\`, or \`export PATH="${installed.slice(0, -"/node".length)}:$PATH"\` in this shell.`
    : "Fix: run `npm ci` again, then `npm start` / `npm test`, or install Node.js 24 (`nvm install 24`) and put it first on PATH.";
  process.stderr.write(
    [
      `clawdinator: Node.js ${process.versions.node} is too old; this project needs Node.js >= ${NEEDED.join(".")} (24 LTS). ${fix}`,
      `  npm ci installs Node.js 24 into node_modules/.bin for npm scripts on linux-x64, linux-arm64, darwin-x64 and darwin-arm64;`,
      `  this machine is ${platform}${process.env.npm_config_omit?.includes("optional") ? " and optional dependencies were omitted (--omit=optional)" : ""}, and ${process.execPath} was found first.`,
      "",
    ].join("\n"),
  );
  process.exit(1);
}
