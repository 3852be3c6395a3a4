// The GitHub client against the local GitHub API: App tokens minted in process with read-only
// permissions and renewed without a restart, PAT and anonymous modes, an Enterprise base path,
// conditional requests, and survival of 5xx, secondary limits and 429s.
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { GithubAuthError } from "../../agent/github/auth.ts";
import { READ_ONLY_PERMISSIONS } from "../../agent/github/defaults.ts";
import { HOUR, type GithubFake } from "../fakes/github/server.ts";
import { APP_ID, appCredentials, appFake, appKeys, connect } from "./helpers.ts";

describe("App installation tokens", () => {
  let fake: GithubFake;
  before(async () => {
    fake = await appFake();
    fake.repo("acme/widgets").addIssue({ title: "hello" });
  });
  after(() => fake.close());

  it("are minted in process with read-only permissions, after the fake verified the JWT", async () => {
    const github = connect(fake);
    const { data } = await github.client.request("GET /repos/{owner}/{repo}/issues", { owner: "acme", repo: "widgets" });
    assert.equal(data.length, 1);
    const mint = fake.requests.find((r) => r.path.endsWith("/access_tokens"));
    assert.ok(mint, "a token was requested");
    assert.equal(mint.credential, "app-jwt");
    assert.equal(mint.status, 201);
    assert.deepEqual((mint.body as { permissions: unknown }).permissions, READ_ONLY_PERMISSIONS);
    assert.equal(fake.requests.at(-1)?.credential, "installation");
  });

  it("a token that expires mid-run is renewed on its 401, without a restart", async () => {
    const github = connect(fake);
    const before = fake.tokens.length;
    await github.client.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "widgets" });
    assert.equal(fake.tokens.length, before + 1);
    // The fake's clock passes the hour: the token is dead on the server, while this client's own
    // clock still thinks it fresh (the case auth-app's 59-minute cache gets wrong).
    fake.clock.advance(HOUR + 60_000);
    const mark = fake.requests.length;
    const { data } = await github.client.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "widgets" });
    assert.equal(data.full_name, "acme/widgets");
    assert.equal(fake.tokens.length, before + 2, "one new token");
    const statuses = fake.requests.slice(mark).map((r) => `${r.status} ${r.credential}`);
    assert.deepEqual(statuses, ["401 invalid", "201 app-jwt", "304 installation"]);
  });

  it("a token near its expiry is renewed before use, so no request fails", async () => {
    const github = connect(fake, appCredentials(), { now: () => fake.clock.now() });
    await github.client.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "widgets" });
    const first = await github.token();
    fake.clock.advance(56 * 60_000); // 4 minutes left: inside the 5-minute margin
    const mark = fake.requests.length;
    await github.client.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "widgets" });
    assert.notEqual(await github.token(), first);
    assert.deepEqual(
      fake.requests.slice(mark).map((r) => r.status),
      [201, 304],
    );
  });

  it("a revoked token is replaced once, and concurrent requests share the new one", async () => {
    const github = connect(fake);
    await github.client.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "widgets" });
    const before = fake.tokens.length;
    fake.revokeTokens();
    await Promise.all([1, 2, 3].map(() => github.client.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "widgets" })));
    assert.equal(fake.tokens.length, before + 1);
  });

  it("a wrong private key is an error that names the setting to check", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs1", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
    const github = connect(fake, appCredentials(other.privateKey));
    await assert.rejects(github.client.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "widgets" }), (error: unknown) => {
      assert.ok(error instanceof GithubAuthError);
      assert.equal(error.status, 401);
      assert.match(error.message, /githubApp\.privateKeyFile/);
      return true;
    });
  });

  it("a wrong installation id names githubApp.installationId", async () => {
    const github = connect(fake, { kind: "app", appId: APP_ID, installationId: 999, privateKey: appKeys().privateKey });
    await assert.rejects(github.token(), /githubApp\.installationId/);
  });
});

describe("PAT, anonymous and Enterprise modes", () => {
  let fake: GithubFake;
  before(async () => {
    fake = await appFake({ pats: ["ghp_testtoken000000000000000000000000"] });
    fake.repo("acme/widgets").addIssue();
  });
  after(() => fake.close());

  it("a PAT is sent as is", async () => {
    const github = connect(fake, { kind: "token", token: "ghp_testtoken000000000000000000000000" });
    await github.client.request("GET /repos/{owner}/{repo}/issues", { owner: "acme", repo: "widgets" });
    assert.equal(fake.requests.at(-1)?.credential, "pat");
    assert.equal(await github.token(), "ghp_testtoken000000000000000000000000");
  });

  it("anonymous reads public data", async () => {
    const github = connect(fake, { kind: "anonymous" });
    await github.client.request("GET /repos/{owner}/{repo}/issues", { owner: "acme", repo: "widgets" });
    assert.equal(fake.requests.at(-1)?.credential, "anonymous");
    assert.equal(await github.token(), undefined);
  });

  it("an Enterprise base URL (https://HOST/api/v3) is used as given", async () => {
    const github = connect(fake, { kind: "anonymous" }, { baseUrl: `${fake.baseUrl}/api/v3/` });
    const { data } = await github.client.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "widgets" });
    assert.equal(data.full_name, "acme/widgets");
    assert.match(String(fake.requests.at(-1)?.headers["user-agent"]), /^clawdinator /);
  });
});

describe("resilience and conditional requests", () => {
  let fake: GithubFake;
  before(async () => {
    fake = await appFake();
    const repo = fake.repo("acme/widgets");
    for (let i = 0; i < 7; i++) repo.addIssue();
  });
  after(() => fake.close());

  it("a repeated GET is answered 304 and costs no rate limit; the remembered body is returned", async () => {
    const github = connect(fake);
    const first = await github.client.request("GET /repos/{owner}/{repo}/issues", { owner: "acme", repo: "widgets" });
    const mark = fake.requests.length;
    const second = await github.client.request("GET /repos/{owner}/{repo}/issues", { owner: "acme", repo: "widgets" });
    assert.deepEqual(second.data, first.data);
    assert.deepEqual(fake.stats(mark), { requests: 1, cost: 0, notModified: 1, byStatus: { 304: 1 } });
  });

  it("pagination follows Link headers through the library", async () => {
    const github = connect(fake);
    const all = await github.client.paginate("GET /repos/{owner}/{repo}/issues", { owner: "acme", repo: "widgets", per_page: 3 });
    assert.equal(all.length, 7);
  });

  it("a burst of 5xx, a 403 secondary limit and a 429 is survived", async () => {
    const github = connect(fake);
    fake.inject(
      { kind: "server-error", status: 502 },
      { kind: "server-error", status: 503 },
      { kind: "secondary-limit", status: 403, retryAfter: 1 },
      { kind: "secondary-limit", status: 429, retryAfter: 1 },
      { kind: "server-error", status: 500 },
    );
    const mark = fake.requests.length;
    const { data } = await github.client.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "widgets" });
    assert.equal(data.full_name, "acme/widgets");
    assert.equal(fake.pendingFaults, 0);
    const statuses = fake.requests.slice(mark).filter((r) => !r.path.startsWith("/app")).map((r) => r.status);
    assert.deepEqual(statuses, [502, 503, 403, 429, 500, 200]);
  });

  it("more 5xx than the retries fail the request with its status", async () => {
    const github = connect(fake, appCredentials(), { retries: 1 });
    fake.inject({ kind: "server-error", status: 502 }, { kind: "server-error", status: 502 }, { kind: "server-error", status: 502 });
    await assert.rejects(github.client.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "widgets" }), { status: 502 });
    fake.inject(); // leftovers are drained by the next test's requests
    while (fake.pendingFaults > 0) await github.client.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "widgets" }).catch(() => undefined);
  });
});
