// Issue 16, part 4: previews run with a role that only this repository's pull requests can assume
// and that can never decrypt or write; only the production environment can assume the deploy role.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deployRoleTrustPolicy, previewRoleGuardPolicy, previewRoleTrustPolicy } from "../../infra/iam.ts";
import { policyDocumentsBounded, TYPES, type DeclaredResource } from "../../infra/invariants.ts";

const input = { repository: "you/clawdinators", oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" };

describe("CI roles", () => {
  it("the preview role trusts only pull_request tokens of this repository; the deploy role only its production environment", () => {
    const preview = previewRoleTrustPolicy(input).Statement;
    assert.equal(preview.length, 1);
    assert.deepEqual(preview[0]?.Condition?.StringEquals, {
      "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
      "token.actions.githubusercontent.com:sub": "repo:you/clawdinators:pull_request",
    });
    assert.equal(deployRoleTrustPolicy(input).Statement[0]?.Condition?.StringEquals?.["token.actions.githubusercontent.com:sub"], "repo:you/clawdinators:environment:production");
    assert.doesNotMatch(JSON.stringify(previewRoleTrustPolicy(input)), /\*|StringLike/, "no wildcard subject");
  });

  it("the preview role's guard denies every decrypt and secret read, and every write", () => {
    const [secrets, writes] = previewRoleGuardPolicy().Statement;
    assert.equal(secrets?.Effect, "Deny");
    for (const action of ["kms:Decrypt", "ssm:GetParameter*", "secretsmanager:GetSecretValue"]) assert.ok([secrets?.Action].flat().includes(action), action);
    assert.equal(writes?.Effect, "Deny");
    assert.ok(writes?.NotAction !== undefined, "everything but the listed reads is denied");
  });

  it("the trust policies pass the pack's own policy rules", () => {
    const role = (doc: unknown): DeclaredResource => ({ urn: "urn:x", type: TYPES.role, name: "ci", inputs: { assumeRolePolicy: JSON.stringify(doc) }, refs: {} });
    assert.deepEqual(policyDocumentsBounded(role(previewRoleTrustPolicy(input))), []);
    assert.deepEqual(policyDocumentsBounded(role(deployRoleTrustPolicy(input))), []);
  });
});
