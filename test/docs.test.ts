// The docs and package.json name files, commands and options of this repository; a renamed or
// never-written file, a command that is not there or an option a command refuses must fail here
// rather than send a reader (or `npm run`) to nothing.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { it } from "node:test";
import { AGENT_SECRET_KEYS } from "../infra/bundle.ts";
import { requireTool } from "./helpers/tools.ts";
import { ROOT, runCli } from "./helpers/cli.ts";

const DOCS = [
  "README.md",
  "CONTRIBUTING.md",
  "CHANGELOG.md",
  "nix/README.md",
  "memory/README.md",
  ...readdirSync(path.join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];
const text = (doc: string): string => readFileSync(path.join(ROOT, doc), "utf8");

// Folders whose paths in prose are paths of this repository.
const REPO_PATH = /(?<=^|[\s(`])(?:agent|cli|infra|providers|test|bench|docs|workspace|nix|secrets|scripts)\/[\w.-]+(?:\/[\w.-]+)*/gm;

it("every repository path the docs name exists", () => {
  const missing: string[] = [];
  let named = 0;
  for (const doc of DOCS) {
    for (const [found] of text(doc).matchAll(REPO_PATH)) {
      const candidate = found.replace(/[.]+$/, "");
      named += 1;
      if (!existsSync(path.join(ROOT, candidate))) missing.push(`${doc}: ${candidate}`);
    }
  }
  assert.ok(named > 20, `expected the docs to name many repository paths, found ${named}`);
  assert.deepEqual(missing, []);
});

it("every markdown file the docs cite exists, and none cites notes that are not in the repository", () => {
  const files = new Set(
    execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map((file) => path.basename(file)),
  );
  const missing: string[] = [];
  for (const doc of DOCS) {
    for (const [, name] of text(doc).matchAll(/`?(?:[\w.-]+\/)*([\w-]+\.md)\b/g)) if (name && !name.includes("YYYY") && !files.has(name)) missing.push(`${doc}: ${name}`);
    if (/\bNOTES\b/.test(text(doc))) missing.push(`${doc}: NOTES (the session notes are not part of this repository)`);
  }
  assert.deepEqual(missing, []);
});

it("every npm script that runs a file names one that exists", () => {
  const { scripts } = JSON.parse(text("package.json")) as { scripts: Record<string, string> };
  const files = Object.entries(scripts).flatMap(([name, command]) =>
    [...command.matchAll(/\bnode\s+(?:--[\w-]+(?:=\S+)?\s+)*([\w./-]+\.ts)\b/g)].map((match) => ({ name, file: match[1] ?? "" })),
  );
  assert.ok(files.length > 0, "expected at least one `node <file>.ts` script (npm start)");
  const missing = files.filter(({ file }) => !existsSync(path.join(ROOT, file))).map(({ name, file }) => `npm run ${name}: ${file}`);
  assert.deepEqual(missing, []);
});

it("every `npm run X` the docs show is a script of package.json", () => {
  const { scripts } = JSON.parse(text("package.json")) as { scripts: Record<string, string> };
  const missing = DOCS.flatMap((doc) => [...text(doc).matchAll(/\bnpm run ([\w:-]+)/g)].filter(([, name]) => !(name && name in scripts)).map(([found]) => `${doc}: ${found}`));
  assert.deepEqual(missing, []);
});

it("every clawdinator command, action and option the docs show is one the CLI accepts", async () => {
  // The commands and their actions from the CLI's own help ("clawdinator memory read|write|...").
  const help = await runCli(["help"]);
  assert.equal(help.code, 0, help.stderr);
  const actions = new Map<string, Set<string>>();
  for (const [, command = "", rest = ""] of help.stdout.matchAll(/^ {2}clawdinator ([\w-]+) ?([\w|<>-]*)/gm)) {
    actions.set(command, new Set(rest.replace(/[<>]/g, "").split("|").filter((action) => /^[a-z][a-z-]*$/.test(action))));
  }
  assert.ok(actions.size >= 5, help.stdout);
  // Each command's options, from the module that parses them.
  const common = ["log-level", "version", "help"];
  const options = new Map<string, Set<string>>();
  for (const command of actions.keys()) {
    const module = (await import(`../cli/commands/${command}.ts`)) as { OPTIONS?: Record<string, unknown> | readonly string[]; FLAGS?: readonly string[] };
    const own = module.OPTIONS === undefined ? [] : Array.isArray(module.OPTIONS) ? module.OPTIONS : Object.keys(module.OPTIONS);
    options.set(command, new Set([...own, ...(module.FLAGS ?? []), ...common]));
  }
  const wrong: string[] = [];
  let checked = 0;
  for (const doc of DOCS) {
    for (const line of text(doc).split("\n")) {
      for (const match of line.matchAll(/\bclawdinator(?:\.ts)? ([\w-]+)(?: ([\w-]+))?([^`|#]*)/g)) {
        const [, command = "", action, rest = ""] = match;
        if (!actions.has(command)) {
          if (command !== "help" && /^[a-z]+$/.test(command) && line.includes(`clawdinator ${command} `)) wrong.push(`${doc}: clawdinator ${command} (no such command)`);
          continue;
        }
        checked += 1;
        const known = actions.get(command) ?? new Set();
        if (action && known.size > 0 && !known.has(action) && !/^[A-Z]/.test(action)) wrong.push(`${doc}: clawdinator ${command} ${action} (no such action)`);
        for (const [, flag = ""] of rest.matchAll(/(?<![\w-])--([a-z][\w-]*)/g)) {
          if (!options.get(command)?.has(flag)) wrong.push(`${doc}: clawdinator ${command} --${flag} (not an option of ${command})`);
        }
      }
    }
  }
  assert.ok(checked > 15, `expected the docs to show many clawdinator commands, found ${checked}`);
  assert.deepEqual(wrong, []);
});

it("secrets/secrets.nix has an agenix rule for every secret the agent knows", (t) => {
  const nix = requireTool(t, "nix-instantiate", "nix-bin");
  if (!nix) return;
  const names = JSON.parse(
    execFileSync(nix, ["--eval", "--strict", "--json", "-E", `builtins.attrNames (import ${path.join(ROOT, "secrets/secrets.nix")})`], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }),
  ) as string[];
  assert.deepEqual(names.sort(), Object.keys(AGENT_SECRET_KEYS).map((name) => `${name}.age`).sort());
  for (const name of Object.keys(AGENT_SECRET_KEYS)) assert.match(text("secrets/secrets.nix"), new RegExp(`agenix -e ${name}\\.age`), `a recipe for ${name}`);
});
