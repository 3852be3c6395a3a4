import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DISCORD_MESSAGE_LIMIT, splitForDiscord } from "../../agent/transport/split.ts";

const squash = (text: string): string => text.replace(/\s+/g, "");

/** A deterministic PRNG, so a failing case can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function fences(message: string): number {
  return message.split("\n").filter((line) => /^\s*```/.test(line)).length;
}

describe("splitForDiscord", () => {
  it("returns a short text unchanged, and nothing for blank text", () => {
    assert.deepEqual(splitForDiscord("hello"), ["hello"]);
    assert.deepEqual(splitForDiscord("x".repeat(DISCORD_MESSAGE_LIMIT)), ["x".repeat(DISCORD_MESSAGE_LIMIT)]);
    assert.deepEqual(splitForDiscord("  \n\n "), []);
  });

  it("rejects a limit too small to hold a fenced line", () => {
    assert.throws(() => splitForDiscord("text", 10), RangeError);
    assert.throws(() => splitForDiscord("text", 100.5), RangeError);
  });

  it("breaks between paragraphs when they fit", () => {
    const a = "a".repeat(60);
    const b = "b".repeat(60);
    const c = "c".repeat(60);
    assert.deepEqual(splitForDiscord(`${a}\n\n${b}\n\n${c}`, 130), [`${a}\n\n${b}`, c]);
  });

  it("breaks a long paragraph between lines, then sentences, then words", () => {
    const lines = ["one ".repeat(10).trim(), "two ".repeat(10).trim(), "three ".repeat(8).trim()];
    assert.deepEqual(splitForDiscord(lines.join("\n"), 50), lines);

    const sentences = "This is sentence one. This is sentence two! Is this sentence three? Yes.";
    const bySentence = splitForDiscord(sentences, 30);
    assert.deepEqual(bySentence, ["This is sentence one.", "This is sentence two!", "Is this sentence three? Yes."]);

    const words = "alpha beta gamma delta epsilon zeta eta theta iota kappa";
    for (const part of splitForDiscord(words, 24)) {
      assert.ok(part.length <= 24);
      assert.ok(!part.startsWith(" ") && !part.endsWith(" "), `no dangling space in "${part}"`);
    }
    assert.equal(splitForDiscord(words, 24).join(" "), words);
  });

  it("cuts a word longer than the limit, never between the halves of a surrogate pair", () => {
    const long = "x".repeat(59) + "🤖".repeat(30);
    const parts = splitForDiscord(long, 30);
    for (const part of parts) {
      assert.ok(part.length <= 30);
      assert.doesNotMatch(part, /^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/, "a part starts or ends inside a pair");
    }
    assert.equal(parts.join(""), long);
  });

  it("keeps a code block that fits whole, moving it to the next message", () => {
    const prose = "p".repeat(80);
    const code = "```ts\nconst a = 1;\nconst b = 2;\n```";
    const parts = splitForDiscord(`${prose}\n${code}\nafter`, 100);
    assert.equal(parts[0], prose);
    assert.ok(parts[1]?.startsWith(code), `code block intact in: ${parts[1]}`);
  });

  it("splits an oversize code block between lines, reopening the fence with its language", () => {
    const body = Array.from({ length: 60 }, (_, i) => `line ${i}: ${"=".repeat(20)}`);
    const text = `Here is the file:\n\`\`\`typescript\n${body.join("\n")}\n\`\`\`\nDone.`;
    const parts = splitForDiscord(text, 300);
    assert.ok(parts.length > 3);
    const codeParts = parts.filter((p) => p.includes("```"));
    for (const part of parts) assert.ok(part.length <= 300, `${part.length} > 300`);
    for (const part of codeParts) {
      assert.equal(fences(part) % 2, 0, `unbalanced fences in:\n${part}`);
      assert.match(part, /```typescript\n/);
    }
    const recovered = codeParts
      .flatMap((p) => p.split("\n"))
      .filter((line) => line.startsWith("line "));
    assert.deepEqual(recovered, body, "every code line survives once, in order");
    assert.ok(parts[0]?.startsWith("Here is the file:\n```typescript\nline 0"), "the intro travels with the first part");
    assert.equal(parts.at(-1)?.endsWith("Done."), true);
  });

  it("handles an unclosed fence and ~~~ fences", () => {
    const body = Array.from({ length: 30 }, (_, i) => `x${i}`.padEnd(12, "."));
    for (const fence of ["```", "~~~"]) {
      const parts = splitForDiscord(`${fence}\n${body.join("\n")}`, 100);
      for (const part of parts) {
        assert.ok(part.length <= 100);
        assert.ok(part.startsWith(fence) && part.endsWith(fence), part);
      }
      assert.deepEqual(
        parts.flatMap((p) => p.split("\n")).filter((l) => l.startsWith("x")),
        body,
      );
    }
  });

  it("a fence-like line inside prose text after a closed block starts a new block", () => {
    const text = `${"a".repeat(40)}\n\`\`\`\ncode\n\`\`\`\n${"b".repeat(40)}\n\`\`\`py\nprint(1)\n\`\`\``;
    const parts = splitForDiscord(text, 50);
    for (const part of parts) assert.equal(fences(part) % 2, 0, part);
    assert.ok(parts.includes("```py\nprint(1)\n```"));
  });

  it("never exceeds the limit and loses no text, on generated input", () => {
    const random = prng(42);
    const words = ["the", "CLAWDINATOR", "deploys", "br00tal", "code.", "Yes!", "why?", "🤖", "x".repeat(70)];
    for (let round = 0; round < 200; round++) {
      const limit = 24 + Math.floor(random() * 300);
      const pieces: string[] = [];
      const count = Math.floor(random() * 200);
      for (let i = 0; i < count; i++) {
        const r = random();
        if (r < 0.05) pieces.push("\n\n");
        else if (r < 0.12) pieces.push("\n");
        else if (r < 0.14) pieces.push(`\n\`\`\`js\n${"let v = 1;\n".repeat(Math.floor(random() * 40))}\`\`\`\n`);
        else pieces.push(`${words[Math.floor(random() * words.length)]} `);
      }
      const text = pieces.join("");
      const parts = splitForDiscord(text, limit);
      for (const part of parts) {
        assert.ok(part.length <= limit, `round ${round}: ${part.length} > ${limit}`);
        assert.ok(part.trim() !== "", `round ${round}: empty part`);
        assert.equal(fences(part) % 2, 0, `round ${round}: unbalanced fences:\n${part}`);
      }
      // Reopened fences add fence lines; everything else is the original text.
      const withoutFences = (s: string): string => squash(s.replace(/```js|```/g, ""));
      assert.equal(withoutFences(parts.join("\n")), withoutFences(text), `round ${round} lost or added text`);
    }
  });
});
