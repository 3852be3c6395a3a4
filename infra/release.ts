// The release the fleet pins for the in-place lane: `release/current.json` in the bootstrap bucket,
// read by every host's `clawdinator self-update` (its role may read exactly that key). A flake ref
// at one fixed revision, never a branch: hosts never resolve or update anything themselves.
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { FleetConfig } from "./config.ts";
import { RELEASE_KEY } from "./invariants.ts";

export type ReleasePin = NonNullable<FleetConfig["release"]>;

/** The document hosts read (the shape of agent/ops/self-update.ts's ReleaseSchema). */
export function releaseDocument(release: ReleasePin): string {
  return `${JSON.stringify({ version: 1, flake: release.flake, nixosConfiguration: release.nixosConfiguration, systemPath: release.systemPath ?? null }, null, 2)}\n`;
}

/** Writes the pin when the fleet sets `release`; without it the object is absent and self-update does nothing. */
export function createReleasePin(release: ReleasePin | undefined, bucket: pulumi.Input<string>, tags: Record<string, string>): aws.s3.BucketObjectv2 | undefined {
  if (!release) return undefined;
  return new aws.s3.BucketObjectv2("releasePin", {
    bucket,
    key: RELEASE_KEY,
    content: releaseDocument(release),
    contentType: "application/json",
    serverSideEncryption: "AES256",
    tags,
  });
}
