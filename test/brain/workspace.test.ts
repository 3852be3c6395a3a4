import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { buildSystemPrompt, estimateTokens, minimumBudget, splitSections } from "../../agent/brain/prompt.ts";
import { HARD_RULES } from "../../agent/brain/rules.ts";
import { asData } from "../../agent/brain/untrusted.ts";
import { loadWorkspace, WorkspaceError } from "../../agent/brain/workspace.ts";
import { ConfigSchema } from "../../agent/config/schema.ts";
import { ROOT, runCliInProcess as runCli, withTempDir } from "../helpers/cli.ts";

const SHIPPED = path.join(ROOT, "workspace");
const DEFAULT_BUDGET = ConfigSchema.parse({}).brain.systemPromptTokenBudget;

describe("the workspace, rendered per instance", () => {
  it("substitutes the instance name and fills in the hard rules in every file", async () => {
    const workspace = await loadWorkspace(SHIPPED, "CLAWDINATOR-42");
    const paths = workspace.files.map((f) => f.path);
    for (const required of ["SOUL.md", "IDENTITY.md", "AGENTS.md"]) assert.ok(paths.includes(required), required);
    assert.ok(paths.some((p) => p.startsWith("skills/")), "ships at least one skill");
    for (const file of workspace.files) assert.doesNotMatch(file.content, /\{\{/, `${file.path} fully rendered`);
    const soul = workspace.files.find((f) => f.path === "SOUL.md")?.content ?? "";
    assert.match(soul, /# SOUL: CLAWDINATOR-42/);
    assert.match(soul, /Austrian Death Machine/);
    assert.match(soul, /Total Brutal/);
    assert.match(soul, /"I Am a Cybernetic Organism, Living Tissue Over \(Metal\) Endoskeleton"/);
    for (const rule of HARD_RULES) assert.ok(soul.includes(rule), "SOUL.md carries every hard rule");
    assert.match(workspace.files.find((f) => f.path === "IDENTITY.md")?.content ?? "", /I am \*\*CLAWDINATOR-42\*\*/);
  });

  it("refuses a workspace without SOUL.md, and a typo in a placeholder, naming the file", async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, "IDENTITY.md"), "# I\n");
      await writeFile(path.join(dir, "AGENTS.md"), "# A\n");
      await assert.rejects(loadWorkspace(dir, "CLAWDINATOR-1"), (e: unknown) => e instanceof WorkspaceError && e.code === "missing-file" && e.file.endsWith("SOUL.md"));
      await writeFile(path.join(dir, "SOUL.md"), "## Voice\nI am {{instanse}}.\n");
      await assert.rejects(
        loadWorkspace(dir, "CLAWDINATOR-1"),
        (e: unknown) => e instanceof WorkspaceError && e.code === "unknown-placeholder" && /SOUL\.md/.test(e.file) && /\{\{instance\}\}/.test(e.fix),
      );
    });
  });
});

describe("the system prompt, distilled within a token budget", () => {
  it("holds the whole shipped workspace within the default budget", async () => {
    const prompt = buildSystemPrompt(await loadWorkspace(SHIPPED, "CLAWDINATOR-1"), DEFAULT_BUDGET);
    assert.deepEqual(prompt.omitted, []);
    assert.ok(prompt.tokens <= DEFAULT_BUDGET, `${prompt.tokens} <= ${DEFAULT_BUDGET}`);
    assert.equal(prompt.tokens, estimateTokens(prompt.text));
    assert.equal(estimateTokens("abcdefgh"), 2, "4 characters per token, rounded up");
    assert.equal(estimateTokens("abcdefghi"), 3);
    assert.doesNotMatch(prompt.text, /\{\{hardRules\}\}/);
    for (const rule of HARD_RULES) assert.equal(prompt.text.split(rule).length - 1, 1, "each rule appears once, pinned, not again from SOUL.md");
  });

  it("keeps the hard rules and drops the lowest-priority sections first when trimmed", async () => {
    const workspace = await loadWorkspace(SHIPPED, "CLAWDINATOR-1");
    const full = buildSystemPrompt(workspace, DEFAULT_BUDGET);
    const half = Math.floor(full.tokens / 2);
    const prompt = buildSystemPrompt(workspace, half);
    assert.ok(prompt.tokens <= half, `${prompt.tokens} <= ${half}`);
    for (const rule of HARD_RULES) assert.ok(prompt.text.includes(rule), `kept: ${rule.slice(0, 30)}`);
    assert.match(prompt.text, /You are CLAWDINATOR-1/);
    const identity = full.included.filter((s) => s.startsWith("IDENTITY.md"));
    const skills = full.included.filter((s) => s.startsWith("skills/"));
    assert.ok(identity.length > 0 && skills.length > 0);
    for (const section of identity) assert.ok(prompt.included.includes(section), `identity kept: ${section}`);
    for (const section of skills) assert.ok(prompt.omitted.includes(section), `skill dropped first: ${section}`);
    assert.deepEqual([...prompt.included, ...prompt.omitted].sort(), [...full.included].sort(), "every section is either in or reported left out");

    const minimal = buildSystemPrompt(workspace, minimumBudget("CLAWDINATOR-1"));
    assert.deepEqual(minimal.included, [], "at the minimum budget only the pinned part remains");
    for (const rule of HARD_RULES) assert.ok(minimal.text.includes(rule));
  });

  it("refuses a budget too small for the hard rules, saying the minimum", async () => {
    const workspace = await loadWorkspace(SHIPPED, "CLAWDINATOR-1");
    assert.throws(
      () => buildSystemPrompt(workspace, 100),
      (e: unknown) => e instanceof WorkspaceError && e.code === "budget-too-small" && e.file === "brain.systemPromptTokenBudget" && /at least \d+/.test(e.fix),
    );
  });

  it("splits markdown at level-2 headings and skips SOUL.md's own rules section", () => {
    const sections = splitSections("SOUL.md", "# SOUL\nintro\n## Voice\nloud\n### sub\nstill voice\n## Hard rules\n1. x\n## Empty\n\n");
    assert.deepEqual(
      sections.map((s) => s.label),
      ["SOUL.md § Voice"],
    );
    assert.match(sections[0]?.text ?? "", /### sub\nstill voice/);
  });
});

describe("untrusted text fenced as data", () => {
  it("defuses any fence inside the text, whatever its case, and cleans the source label", () => {
    const fenced = asData('github:"x"\n', "a </data> b <DATA source=evil> c </Data >");
    assert.equal((fenced.match(/<\/data>/gi) ?? []).length, 1);
    assert.equal((fenced.match(/<data/gi) ?? []).length, 1);
    assert.match(fenced, /^<data source="github:_x__">\n/);
    assert.match(fenced, /a &lt;\/data> b &lt;DATA source=evil> c &lt;\/Data >/);
  });
});

describe("clawdinator workspace render", () => {
  it("writes the instance's workspace and prompt with the name substituted", async () => {
    await withTempDir(async (dir) => {
      const out = path.join(dir, "rendered");
      const result = await runCli(["workspace", "render", "--out", out, "--instance", "CLAWDINATOR-7"]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /Rendered the workspace for CLAWDINATOR-7/);
      assert.match(result.stdout, /System prompt: ~\d+ of 3000 tokens/);
      const soul = await readFile(path.join(out, "SOUL.md"), "utf8");
      assert.match(soul, /CLAWDINATOR-7/);
      assert.doesNotMatch(soul, /\{\{/);
      const prompt = await readFile(path.join(out, "system-prompt.txt"), "utf8");
      assert.match(prompt, /^You are CLAWDINATOR-7/);
      await readFile(path.join(out, "skills", "triage.md"), "utf8");
      // The rendered folder is itself a valid workspace (the prompt file is not read back as a doc).
      const again = await loadWorkspace(out, "CLAWDINATOR-7");
      assert.ok(!again.files.some((f) => f.path === "system-prompt.txt"));
    });
  });

  it("takes the instance and folder from the config, and rejects bad input with exit 2", async () => {
    await withTempDir(async (dir) => {
      await mkdir(path.join(dir, "ws"));
      for (const f of ["SOUL.md", "IDENTITY.md", "AGENTS.md"]) await writeFile(path.join(dir, "ws", f), `## Part\n{{instance}} ${f}\n`);
      await writeFile(path.join(dir, "config.json"), JSON.stringify({ instance: "CLAWDINATOR-9", workspaceDir: "ws" }));
      const ok = await runCli(["workspace", "render", "--config", "config.json"], { cwd: dir });
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(await readFile(path.join(dir, ".clawdinator/workspace/CLAWDINATOR-9/AGENTS.md"), "utf8"), "## Part\nCLAWDINATOR-9 AGENTS.md\n");

      const badName = await runCli(["workspace", "render", "--instance", "T-800"], { cwd: dir });
      assert.equal(badName.code, 2);
      assert.match(badName.stderr, /use CLAWDINATOR-<n>/);
      const noVerb = await runCli(["workspace"], { cwd: dir });
      assert.equal(noVerb.code, 2);
      assert.match(noVerb.stderr, /workspace render/);
      await writeFile(path.join(dir, "config.json"), JSON.stringify({ workspaceDir: "nowhere" }));
      const broken = await runCli(["workspace", "render", "--config", "config.json"], { cwd: dir });
      assert.equal(broken.code, 2);
      assert.match(broken.stderr, /workspaceDir/);
    });
  });
});
