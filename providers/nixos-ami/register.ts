// RegisterImage as a modern AMI, and the tags that make it findable again.
import { CreateTagsCommand, DescribeImagesCommand, type EC2Client, RegisterImageCommand } from "@aws-sdk/client-ec2";
import { isAwsError, ImagePipelineError } from "./errors.ts";
import { pollUntil } from "./poll.ts";
import type { ImageFacts } from "./tags.ts";
import { factTags, TAG, tagMap } from "./tags.ts";
import type { Architecture, BootMode } from "./types.ts";

export const ROOT_DEVICE = "/dev/xvda";

export interface RegisterRequest {
  readonly name: string;
  readonly snapshotId: string;
  readonly architecture: Architecture;
  readonly bootMode: BootMode;
  readonly facts: ImageFacts;
  readonly tags: Readonly<Record<string, string>>;
}

/** The AMI name: the prefix and the identity digest, nothing instance-specific, so every stack shares it. */
export function imageName(namePrefix: string, digest: string): string {
  return `${namePrefix}-${digest}`;
}

/**
 * Registers the snapshot. RegisterImage has no ClientToken, so a retry after a lost reply gets
 * `InvalidAMIName.Duplicate`: then the AMI of that name is adopted if it carries our identity.
 */
export async function registerImage(ec2: EC2Client, request: RegisterRequest): Promise<string> {
  const tags = factTags(request.facts, request.name, request.tags);
  await ec2.send(new CreateTagsCommand({ Resources: [request.snapshotId], Tags: tags }));
  try {
    const { ImageId } = await ec2.send(
      new RegisterImageCommand({
        Name: request.name,
        Description: `NixOS ${request.facts.closure || request.facts.identity}`.slice(0, 255),
        Architecture: request.architecture,
        VirtualizationType: "hvm",
        RootDeviceName: ROOT_DEVICE,
        BlockDeviceMappings: [{ DeviceName: ROOT_DEVICE, Ebs: { SnapshotId: request.snapshotId, VolumeType: "gp3", DeleteOnTermination: true } }],
        EnaSupport: true,
        SriovNetSupport: "simple",
        ImdsSupport: "v2.0",
        BootMode: request.bootMode,
        TagSpecifications: [{ ResourceType: "image", Tags: tags }],
      }),
    );
    if (!ImageId) throw new ImagePipelineError("REGISTER_FAILED", "RegisterImage returned no ImageId", { snapshotId: request.snapshotId });
    return ImageId;
  } catch (error) {
    if (!isAwsError(error, "InvalidAMIName.Duplicate")) throw error;
    const { Images = [] } = await ec2.send(new DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "name", Values: [request.name] }] }));
    const existing = Images.find((image) => tagMap(image.Tags).get(TAG.identity) === request.facts.identity);
    if (!existing?.ImageId)
      throw new ImagePipelineError(
        "REGISTER_FAILED",
        `an AMI named ${request.name} exists but is not tagged with this identity; deregister it or choose another namePrefix`,
        { name: request.name },
        { cause: error },
      );
    return existing.ImageId;
  }
}

/** Waits until the AMI is `available` (instances cannot launch from a pending one). */
export async function waitForImage(ec2: EC2Client, amiId: string, options: { deadline: number; pollMaxMs: number; signal?: AbortSignal }): Promise<void> {
  await pollUntil(
    async () => {
      const { Images = [] } = await ec2.send(new DescribeImagesCommand({ ImageIds: [amiId] }));
      const state = Images[0]?.State;
      if (state === "available") return true;
      if (state !== "pending")
        throw new ImagePipelineError("REGISTER_FAILED", `AMI ${amiId} is ${state ?? "gone"}: ${Images[0]?.StateReason?.Message ?? "no reason given"}`, { amiId });
      return undefined;
    },
    () => new ImagePipelineError("IMPORT_TIMEOUT", `AMI ${amiId} is still pending`, { amiId }),
    { deadline: options.deadline, initialMs: 250, maxMs: options.pollMaxMs, growth: 2, signal: options.signal },
  );
}
