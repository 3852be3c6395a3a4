// Acceptance: the real provider object survives Pulumi's closure serialization. This does what
// `new pulumi.dynamic.Resource` does (serializeFunction(() => provider)) and what the engine's
// dynamic-provider host does (require-from-string, then `.handler()`), then drives the result.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import type { NixosAmiState } from "../../providers/nixos-ami/index.ts";
import { nixosAmiProvider, type NixosAmiProvider } from "../../providers/nixos-ami/provider.ts";
import { startWorld, type World } from "./harness.ts";

const requireFromString = createRequire(import.meta.url)("require-from-string") as (code: string) => { handler: () => NixosAmiProvider };

describe("closure serialization", () => {
  let world: World;
  let text: string;
  before(async () => {
    world = await startWorld({ seed: "serialized", sizeMiB: 2, dataMiB: 2, s3: false });
    ({ text } = await pulumi.runtime.serializeFunction(() => nixosAmiProvider, { allowSecrets: true }));
  });
  after(() => world.close());

  it("captures no module state but the operations module's URL", () => {
    assert.match(text, /operations\.ts/);
    assert.doesNotMatch(text, /@aws-sdk/, "no SDK captured by value");
    assert.ok(text.length < 20_000, `serialized provider is small (${text.length} chars)`);
  });

  it("the deserialized provider checks, creates, diffs and deletes against the fakes", async () => {
    const provider = requireFromString(text).handler();
    const checked = await provider.check({}, world.inputs());
    assert.deepEqual(checked.failures, []);
    const created = await provider.create(checked.inputs ?? {});
    const outs = created.outs as NixosAmiState;
    assert.equal(world.ec2.state.images.get(outs.amiId)?.state, "available");
    const diff = await provider.diff(outs.amiId, outs, checked.inputs ?? {});
    assert.equal(diff.changes, false);
    await provider.delete(outs.amiId, outs);
    assert.equal(world.ec2.state.images.get(outs.amiId)?.state, "deregistered");
  });
});

describe("the NixosAmi resource under Pulumi's mocks", () => {
  it("registers a dynamic resource carrying the serialized provider and the create timeout as an input", async () => {
    const { NixosAmi } = await import("../../providers/nixos-ami/index.ts");
    const seen: pulumi.runtime.MockResourceArgs[] = [];
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          seen.push(args);
          return { id: "ami-0123456789abcdef0", state: { ...args.inputs, amiId: "ami-0123456789abcdef0", identity: "/nix/store/x" } };
        },
        call: (args) => args.inputs,
      },
      "clawdinators",
      "test",
      true,
    );
    const image = new NixosAmi(
      "image",
      { flake: "/src", nixosConfiguration: "clawdinator-1", bucket: "b", region: "eu-central-1" },
      { customTimeouts: { create: "1h30m" } },
    );
    const amiId = await new Promise<string>((resolve) => image.amiId.apply(resolve));
    assert.equal(amiId, "ami-0123456789abcdef0");
    const [registered] = seen;
    assert.equal(registered?.type, "pulumi-nodejs:dynamic:Resource");
    assert.equal(registered?.inputs.importTimeoutMinutes, 90);
    assert.match(String(registered?.inputs.__provider), /operations\.ts/);
  });
});
