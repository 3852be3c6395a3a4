// RegisterImage as a modern AMI, and the tags that make it findable again.
import { CreateTagsCommand, DescribeImagesCommand, DescribeSnapshotsCommand, type EC2Client, type Image, RegisterImageCommand } from "@aws-sdk/client-ec2";
import { toRegisteredImage } from "./adopt.ts";
import { isAwsError, ImagePipelineError } from "./errors.ts";
import { pollUntil } from "./poll.ts";
import { type RetryPolicy, untilVisible } from "./retry.ts";
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
  readonly policy: RetryPolicy;
  /** For the error that tells how to resolve a name conflict. */
  readonly region: string;
}

export interface Registered {
  readonly amiId: string;
  /** The AMI's own root snapshot: `request.snapshotId` unless an existing AMI was adopted. */
  readonly snapshotId: string;
  /** `registered`: this call made the AMI; `duplicate`: another run had, tagged; `untagged`: an untagged AMI proved ours and was tagged. */
  readonly how: "registered" | "duplicate" | "untagged";
}

/** The AMI name: the prefix and the identity digest, nothing instance-specific, so every stack shares it. */
export function imageName(namePrefix: string, digest: string): string {
  return `${namePrefix}-${digest}`;
}

/**
 * Registers the snapshot. RegisterImage has no ClientToken, so a retry after a lost reply, or a
 * second run racing this one, gets `InvalidAMIName.Duplicate`: then the AMI of that name is adopted
 * when it is this image (`adoptByName`), and the snapshot it really uses is returned.
 */
export async function registerImage(ec2: EC2Client, request: RegisterRequest): Promise<Registered> {
  const tags = factTags(request.facts, request.name, request.tags);
  // The snapshot was completed moments ago: tagging it may meet NotFound for a while.
  await untilVisible({ resource: request.snapshotId, policy: request.policy }, () => ec2.send(new CreateTagsCommand({ Resources: [request.snapshotId], Tags: tags })));
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
    if (!ImageId) throw new ImagePipelineError("REGISTER_FAILED", "RegisterImage returned no ImageId", { snapshotId: request.snapshotId }, { phase: "register", resource: request.snapshotId });
    return { amiId: ImageId, snapshotId: request.snapshotId, how: "registered" };
  } catch (error) {
    if (!isAwsError(error, "InvalidAMIName.Duplicate")) throw error;
    return adoptByName(ec2, request, error);
  }
}

/** The live AMI named `name`, waiting out eventual consistency (the Duplicate says it exists). */
async function imageNamed(ec2: EC2Client, name: string, policy: RetryPolicy): Promise<Image> {
  return untilVisible({ resource: `AMI named ${name}`, policy }, async () => {
    const { Images = [] } = await ec2.send(new DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "name", Values: [name] }] }));
    const image = Images.find((candidate) => candidate.State !== "deregistered" && candidate.ImageId);
    if (image === undefined) throw Object.assign(new Error(`no AMI named ${name} yet`), { name: "InvalidAMIID.NotFound" });
    return image;
  });
}

/** Why an existing AMI does not have the attributes this pipeline registers, or undefined when it does. */
export function settingsMismatch(image: Image, expected: { architecture: Architecture; bootMode: BootMode }): string | undefined {
  const wrong = [
    image.Architecture !== expected.architecture && `architecture ${image.Architecture ?? "unset"} (expected ${expected.architecture})`,
    image.BootMode !== expected.bootMode && `boot mode ${image.BootMode ?? "unset"} (expected ${expected.bootMode})`,
    image.VirtualizationType !== "hvm" && `virtualization ${image.VirtualizationType ?? "unset"} (expected hvm)`,
    image.RootDeviceName !== ROOT_DEVICE && `root device ${image.RootDeviceName ?? "unset"} (expected ${ROOT_DEVICE})`,
  ].filter((reason): reason is string => typeof reason === "string");
  return wrong.length > 0 ? wrong.join(", ") : undefined;
}

/**
 * The AMI that holds our name. Tagged with our identity: another run made it; adopt it with its
 * own snapshot. Untagged (an earlier pipeline, a hand registration, tags removed): adopt and tag it
 * only when its root snapshot carries our identity (or is the snapshot we just made) and its
 * settings are ours; otherwise NAME_TAKEN says how to resolve it.
 */
async function adoptByName(ec2: EC2Client, request: RegisterRequest, duplicate: unknown): Promise<Registered> {
  const image = await imageNamed(ec2, request.name, request.policy);
  const found = toRegisteredImage(image);
  if (found === undefined) throw duplicate;
  const identity = found.tags.get(TAG.identity);
  if (identity === request.facts.identity) return { amiId: found.amiId, snapshotId: found.snapshotId, how: "duplicate" };

  const resolve = (why: string): ImagePipelineError =>
    new ImagePipelineError(
      "NAME_TAKEN",
      `the AMI ${found.amiId} is named ${request.name}, which this image needs, but ${why}`,
      { amiId: found.amiId, name: request.name },
      {
        cause: duplicate,
        phase: "register",
        resource: found.amiId,
        fix:
          `if ${found.amiId} is this image, run \`clawdinator image adopt --ami ${found.amiId} --region ${request.region}\` with the same --flake/--configuration or --image, then run again; ` +
          `if it is not, deregister it (\`aws ec2 deregister-image --image-id ${found.amiId} --region ${request.region}\`) or set another namePrefix. ` +
          `The snapshot ${request.snapshotId} made by this run is kept and reused by the next run`,
      },
    );
  if (identity !== undefined) throw resolve(`it is tagged with another identity (${TAG.identity}=${identity})`);
  const mismatch = settingsMismatch(image, request);
  if (mismatch !== undefined) throw resolve(`it carries no ${TAG.identity} tag and its settings are not this pipeline's: ${mismatch}`);
  if (found.snapshotId !== request.snapshotId) {
    const snapshotIdentity = await rootSnapshotIdentity(ec2, found.snapshotId);
    if (snapshotIdentity !== request.facts.identity)
      throw resolve(
        `it carries no ${TAG.identity} tag and its root snapshot ${found.snapshotId || "(none)"} ${snapshotIdentity === undefined ? "carries none either" : `is tagged with another identity (${snapshotIdentity})`}, so nothing proves it is this image`,
      );
  }
  // Proven ours: give it (and its snapshot) the tags every later run finds it by.
  const tags = factTags(request.facts, request.name, request.tags);
  await ec2.send(new CreateTagsCommand({ Resources: [found.amiId, ...(found.snapshotId ? [found.snapshotId] : [])], Tags: tags }));
  return { amiId: found.amiId, snapshotId: found.snapshotId, how: "untagged" };
}

async function rootSnapshotIdentity(ec2: EC2Client, snapshotId: string): Promise<string | undefined> {
  if (!snapshotId) return undefined;
  try {
    const { Snapshots = [] } = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
    return tagMap(Snapshots[0]?.Tags).get(TAG.identity);
  } catch (error) {
    // A snapshot of another account (a shared AMI) or one deleted since: nothing proves anything.
    if (isAwsError(error, "InvalidSnapshot.NotFound")) return undefined;
    throw error;
  }
}

/** Waits until the AMI is `available` (instances cannot launch from a pending one). */
export async function waitForImage(
  ec2: EC2Client,
  amiId: string,
  options: { deadline: number; pollMaxMs: number; policy: RetryPolicy; signal?: AbortSignal },
): Promise<void> {
  await pollUntil(
    async () => {
      // Right after RegisterImage the id may be unknown to DescribeImages for a while.
      const { Images = [] } = await untilVisible({ resource: amiId, policy: options.policy, signal: options.signal }, () =>
        ec2.send(new DescribeImagesCommand({ ImageIds: [amiId] })),
      );
      const state = Images[0]?.State;
      if (state === "available") return true;
      if (state !== "pending")
        throw new ImagePipelineError("REGISTER_FAILED", `AMI ${amiId} is ${state ?? "gone"}: ${Images[0]?.StateReason?.Message ?? "no reason given"}`, { amiId }, { phase: "register", resource: amiId, fix: "run again: a failed registration is not reused" });
      return undefined;
    },
    () => new ImagePipelineError("IMPORT_TIMEOUT", `AMI ${amiId} is still pending`, { amiId }, { phase: "register", resource: amiId, fix: "run again later: the pending AMI is adopted once available" }),
    { deadline: options.deadline, initialMs: 250, maxMs: options.pollMaxMs, growth: 2, signal: options.signal },
  );
}
