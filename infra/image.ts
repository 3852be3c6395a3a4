// The fleet's NixOS image: the content-addressed image resource from providers/, the bucket its
// raw images pass through, and the VM Import service role it needs for `vm-import`.
import * as aws from "@pulumi/aws";
import { NixosAmi } from "../providers/nixos-ami/index.ts";
import type { FleetConfig } from "./config.ts";
import { vmImportPolicy, vmImportTrustPolicy } from "./iam.ts";
import type { SecureBucket } from "./storage.ts";

/** Raw images live under this prefix; the vmimport role may read nothing else. */
export const IMAGES_PREFIX = "images/";

export interface FleetImage {
  readonly ami: NixosAmi;
  readonly vmImportRole: aws.iam.Role;
}

export function createImage(config: FleetConfig, imagesBucket: SecureBucket, tags: Record<string, string>): FleetImage {
  const region = config["aws:region"];
  const vmImportRole = new aws.iam.Role("vmimport", {
    // VM Import looks the role up by this name; the name is configurable for accounts that already have one.
    name: config.image.vmImportRoleName,
    description: "VM Import reads raw NixOS images from the images bucket and turns them into snapshots",
    assumeRolePolicy: JSON.stringify(vmImportTrustPolicy()),
    tags,
  });
  const vmImportAccess = new aws.iam.RolePolicy("vmimportAccess", {
    role: vmImportRole.name,
    policy: imagesBucket.arn.apply((imagesBucketArn) => JSON.stringify(vmImportPolicy({ imagesBucketArn, imagesPrefix: IMAGES_PREFIX, region }))),
  });
  const { flake, nixosConfiguration, imagePath, architecture, bootMode, importMethod, keep, namePrefix, nixBinary } = config.image;
  const ami = new NixosAmi(
    "image",
    {
      flake,
      nixosConfiguration,
      imagePath,
      bucket: imagesBucket.name,
      keyPrefix: IMAGES_PREFIX,
      region,
      architecture,
      bootMode,
      importMethod,
      keep,
      namePrefix,
      vmImportRoleName: vmImportRole.name,
      nixBinary,
      tags: { ...tags, "clawdinators:component": "image" },
    },
    // The role's permissions must exist before VM Import assumes it; an import can take 20 minutes.
    { dependsOn: [vmImportAccess], customTimeouts: { create: "60m", update: "60m" } },
  );
  return { ami, vmImportRole };
}
