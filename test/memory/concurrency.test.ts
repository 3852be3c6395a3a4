import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { openMemoryStore } from "../../agent/memory/store.ts";
import { withTempDir } from "../helpers/cli.ts";
import { startRacePool, type RacePool } from "./spawn.ts";

// Four processes on this 2-core machine already outnumber the cores, so every lock hand-over races;
// each worker is a node start (~0.2-0.5 s of CPU), and eight proved nothing four do not. The same
// four race in every test (workers/racer.ts), each round as a fresh store.
const PROCESSES = 4;
/** A claim racer's verdict line, "won CLAWDINATOR-n" or "lost CLAWDINATOR-n", as [outcome, instance]. */
const verdictOf = (line: string): [string, string] => {
  const [outcome = "", instance = ""] = line.split(" ");
  return [outcome, instance];
};
// 4 x 100 keeps every writer contending for the lock through the run (they start together behind
// a barrier); 8 x 200 proved no more and cost ~30 s of CPU, the most of any test file.
const EACH = 100;

describe("memory under concurrent writers in separate processes", () => {
  let pool: RacePool;
  before(() => {
    pool = startRacePool(PROCESSES, "racer.ts", []);
  });
  after(async () => {
    for (const exit of await pool.close()) assert.equal(exit.code, 0, exit.stderr);
  });

  it(`${PROCESSES} processes x ${EACH} edit increments of one counter end at exactly ${PROCESSES * EACH}`, async () => {
    await withTempDir(async (root) => {
      const verdicts = await pool.round(() => ({ task: "counter", root, file: "counter.json", count: EACH }));
      assert.deepEqual(verdicts, Array(PROCESSES).fill("done"));
      const final = JSON.parse(await readFile(path.join(root, "counter.json"), "utf8")) as { count: number };
      assert.equal(final.count, PROCESSES * EACH);
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1" });
      assert.deepEqual(await store.list(), ["counter.json"], "no lock or temp file is listed");
    });
  });

  it(`${PROCESSES} processes x ${EACH} appends give ${PROCESSES * EACH} whole lines, none torn or lost, each writer's in order`, async () => {
    await withTempDir(async (root) => {
      const verdicts = await pool.round((i) => ({ task: "append", root, file: "daily/2026-11-24.md", count: EACH, id: `w${i}` }));
      assert.deepEqual(verdicts, Array(PROCESSES).fill("done"));
      const text = await readFile(path.join(root, "daily/2026-11-24.md"), "utf8");
      assert.ok(text.endsWith("\n"));
      const lines = text.slice(0, -1).split("\n");
      assert.equal(lines.length, PROCESSES * EACH);
      const lastSeq = new Map<string, number>();
      for (const line of lines) {
        const match = /^(w\d) (\d{4}) (x+) #([0-9a-f]{12})$/.exec(line);
        assert.ok(match, `torn or foreign line: ${JSON.stringify(line)}`);
        const [, id = "", seq = "", , check] = match;
        const body = line.slice(0, line.lastIndexOf(" #"));
        assert.equal(createHash("sha256").update(body).digest("hex").slice(0, 12), check, `corrupted line: ${line}`);
        assert.equal(Number(seq), (lastSeq.get(id) ?? -1) + 1, `writer ${id} skipped or repeated a line`);
        lastSeq.set(id, Number(seq));
      }
      assert.equal(lastSeq.size, PROCESSES);
      for (const seq of lastSeq.values()) assert.equal(seq, EACH - 1);
    });
  });

  it(`claim: ${PROCESSES} processes race for one key, exactly one wins; after the TTL exactly one other takes it`, async () => {
    await withTempDir(async (root) => {
      const ttl = 60_000;
      // The same four processes race in every round, each time as the instances the round names.
      const claim = { task: "claim", root, key: "triage-clawdinators-42", ttlMs: ttl };
      const first = (await pool.round((i) => ({ ...claim, instance: `CLAWDINATOR-${i + 1}` }))).map(verdictOf);
      const winners = first.filter(([outcome]) => outcome === "won");
      assert.equal(winners.length, 1, first.map((v) => v.join(" ")).join(", "));
      const winner = winners[0]?.[1];
      const record = JSON.parse(await readFile(path.join(root, "claims/triage-clawdinators-42.json"), "utf8")) as { instance: string; expiresAt: number };
      assert.equal(record.instance, winner);

      // While the lease runs, nobody gets it, not even the winner again.
      const during = (await pool.round((i) => ({ ...claim, instance: `CLAWDINATOR-${i + 1}` }))).map(verdictOf);
      assert.deepEqual(during.map(([outcome]) => outcome), Array(PROCESSES).fill("lost"));

      // Clocks moved past the TTL (the workers run ahead of real time by more than the TTL).
      const later = (await pool.round((i) => ({ ...claim, instance: `CLAWDINATOR-${i + 11}`, clockOffsetMs: ttl + 1_000 }))).map(verdictOf);
      const secondWinners = later.filter(([outcome]) => outcome === "won");
      assert.equal(secondWinners.length, 1, later.map((v) => v.join(" ")).join(", "));
      const renewed = JSON.parse(await readFile(path.join(root, "claims/triage-clawdinators-42.json"), "utf8")) as { instance: string; expiresAt: number };
      assert.equal(renewed.instance, secondWinners[0]?.[1]);
      assert.ok(renewed.expiresAt > record.expiresAt);
    });
  });
});
