// The program of the `fleet` stack: everything the instances share. Its outputs are the contract
// the `clawdinator-<n>` stacks read through a StackReference (FLEET_OUTPUTS names them all).
import * as pulumi from "@pulumi/pulumi";
import type { FleetConfig } from "./config.ts";
import { createHiveMind } from "./efs.ts";
import { createImage, IMAGES_PREFIX } from "./image.ts";
import { createReleasePin } from "./release.ts";
import { createSecurityGroups, resolveNetwork } from "./network.ts";
import { createSecretsKey } from "./secrets.ts";
import { SecureBucket } from "./storage.ts";

/** Every output an instance stack reads from the fleet. */
export const FLEET_OUTPUTS = [
  "fleetName",
  "amiId",
  "bootstrapBucket",
  "bootstrapBucketArn",
  "efsId",
  "efsArn",
  "efsAccessPointId",
  "efsAccessPointArn",
  "instanceSecurityGroupId",
  "subnetIds",
  "secretsKeyArn",
  "architecture",
] as const;
export type FleetOutputName = (typeof FLEET_OUTPUTS)[number];

export async function fleetProgram(config: FleetConfig): Promise<Record<string, pulumi.Input<unknown>>> {
  const tags = { ...config.tags, "clawdinators:stack": pulumi.getStack() };
  const network = await resolveNetwork(config);

  const images = new SecureBucket("images", {
    namePrefix: "clawdinator-images",
    tags,
    noncurrentDays: 7,
    // The AMI's snapshot holds the image once imported; the raw file is only a cache for re-imports.
    extraRules: [{ id: "expire-raw-images", status: "Enabled", filter: { prefix: IMAGES_PREFIX }, expiration: { days: config.image.rawImageRetentionDays } }],
  });
  const bootstrap = new SecureBucket("bootstrap", { namePrefix: "clawdinator-bootstrap", tags, noncurrentDays: 30 });
  const secretsKey = createSecretsKey(config.fleetName, tags);
  const groups = createSecurityGroups(network, tags);
  const hiveMind = createHiveMind(config.efs, network, groups.efs, tags);
  const image = createImage(config, images, tags);
  createReleasePin(config.release, bootstrap.name, tags);

  const outputs: Record<FleetOutputName, pulumi.Input<unknown>> = {
    // The instances name their parameter and scope their role with it, so fleet and instances agree.
    fleetName: config.fleetName,
    amiId: image.ami.amiId,
    bootstrapBucket: bootstrap.name,
    bootstrapBucketArn: bootstrap.arn,
    efsId: hiveMind.fileSystem.id,
    efsArn: hiveMind.fileSystem.arn,
    efsAccessPointId: hiveMind.accessPoint.id,
    efsAccessPointArn: hiveMind.accessPoint.arn,
    instanceSecurityGroupId: groups.instances.id,
    subnetIds: network.subnetIds,
    secretsKeyArn: secretsKey.arn,
    architecture: config.image.architecture,
  };
  return {
    ...outputs,
    region: config["aws:region"],
    vpcId: network.vpcId,
    imagesBucket: images.name,
    imageIdentity: image.ami.identity,
    imageClosure: image.ami.closure,
    vmImportRoleArn: image.vmImportRole.arn,
    nextSteps: pulumi.interpolate`Fleet ready: image ${image.ami.amiId}, hive mind ${hiveMind.fileSystem.id}.
  Add an instance:  pulumi stack init clawdinator-1 && pulumi config set aws:region ${config["aws:region"]}
                    pulumi config set --secret ageIdentity "$(cat clawdinator-1.agekey)" && pulumi up
  New image:        change the flake, then pulumi preview --stack fleet shows whether the image is replaced`,
  };
}
