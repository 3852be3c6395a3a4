// The provider's operations, loaded on demand by provider.ts (which must capture nothing else).
// Typed against the resolved inputs; validation happens once, in `check`.
import { CreateTagsCommand, DeleteTagsCommand } from "@aws-sdk/client-ec2";
import type * as pulumi from "@pulumi/pulumi";
import { describeImage } from "./adopt.ts";
import { createClients, destroyClients, type AwsClients } from "./clients.ts";
import { removeImageParts } from "./delete.ts";
import { ImagePipelineError } from "./errors.ts";
import { imageSource, resolveIdentity } from "./identity.ts";
import { DEFAULT_TUNING, normalizeInputs, UNKNOWN } from "./inputs.ts";
import { applyRetention, ensureImage } from "./pipeline.ts";
import { lineReporter, type Reporter } from "./progress.ts";
import { TAG } from "./tags.ts";
import type { NixosAmiInputs, NixosAmiOutputs, NixosAmiState } from "./types.ts";

/**
 * What a change of each input does; the compiler makes every new input choose. `identity`: the
 * input only matters through the identity `diff` evaluates; `replace`: an AMI cannot change it once
 * registered; `update`: applied in place by `update`.
 */
const ON_CHANGE = {
  flake: "identity",
  nixosConfiguration: "identity",
  imagePath: "identity",
  region: "replace",
  architecture: "replace",
  bootMode: "replace",
  tags: "update",
  keep: "update",
  namePrefix: "update",
  importMethod: "update",
  bucket: "update",
  keyPrefix: "update",
  vmImportRoleName: "update",
  nixBinary: "update",
  endpoints: "update",
  importTimeoutMinutes: "update",
  tuning: "update",
} as const satisfies Record<keyof NixosAmiInputs, "identity" | "replace" | "update">;

const inputsThat = (effect: "replace" | "update"): (keyof NixosAmiInputs)[] =>
  (Object.keys(ON_CHANGE) as (keyof NixosAmiInputs)[]).filter((key) => ON_CHANGE[key] === effect);
const REPLACING_INPUTS = inputsThat("replace");
const IN_PLACE_INPUTS = inputsThat("update");

/** Progress lines on stdout: the dynamic provider's console output is shown under the resource. */
export function consoleReporter(): Reporter {
  return lineReporter((line) => console.log(line));
}

export async function check(news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult<Record<string, unknown>>> {
  const { inputs, failures } = normalizeInputs(news);
  return { inputs: { ...inputs }, failures };
}

/**
 * Replace only when the identity (or an immutable AMI attribute) changes. The identity comes from
 * `nix eval` (or hashing a prebuilt file): nothing is built, uploaded or imported here, so a
 * preview has no side effect.
 */
export async function diff(olds: NixosAmiState, news: NixosAmiInputs): Promise<pulumi.dynamic.DiffResult> {
  const replaces: string[] = REPLACING_INPUTS.filter((key) => olds[key] !== news[key]);
  const sourceUnknown = [news.flake, news.nixosConfiguration, news.imagePath].includes(UNKNOWN);
  if (sourceUnknown) return { changes: true, replaces: [...replaces, "identity"] };
  const { identity } = await resolveIdentity(imageSource(news));
  if (identity !== olds.identity) replaces.push("identity");
  const inPlace = IN_PLACE_INPUTS.filter((key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key]));
  return { changes: replaces.length > 0 || inPlace.length > 0, replaces, deleteBeforeReplace: false };
}

export async function create(inputs: NixosAmiInputs, report: Reporter, signal?: AbortSignal): Promise<pulumi.dynamic.CreateResult<NixosAmiState>> {
  return withClients(inputs, async (clients) => {
    const { adopted: _adopted, ...outputs } = await ensureImage(inputs, { clients, report, signal });
    return { id: outputs.amiId, outs: { ...inputs, ...outputs } };
  });
}

/**
 * Same identity: retag the AMI and its snapshot, and apply the (maybe new) retention count.
 * A new `namePrefix` moves the image to the new family by its `clawdinator:name-prefix` tag, which
 * is what retention and `image ls` go by. EC2 cannot rename an AMI, and replacing it (a new AMI
 * under the new name) would give it a new id and so replace every instance for a cosmetic change:
 * the AMI keeps its registered name, and the next identity is registered under the new prefix.
 */
export async function update(olds: NixosAmiState, news: NixosAmiInputs, report: Reporter): Promise<pulumi.dynamic.UpdateResult<NixosAmiState>> {
  const outputs: NixosAmiOutputs = {
    amiId: olds.amiId,
    snapshotId: olds.snapshotId,
    s3Key: olds.s3Key,
    imageSha256: olds.imageSha256,
    identity: olds.identity,
    closure: olds.closure,
    sizeBytes: olds.sizeBytes,
  };
  return withClients(news, async (clients) => {
    const resources = [olds.amiId, olds.snapshotId].filter((id) => id !== "");
    const removed = Object.keys(olds.tags ?? {}).filter((key) => !(key in news.tags));
    if (removed.length > 0) await clients.ec2.send(new DeleteTagsCommand({ Resources: resources, Tags: removed.map((Key) => ({ Key })) }));
    const tags = Object.entries({ ...news.tags, [TAG.namePrefix]: news.namePrefix }).map(([Key, Value]) => ({ Key, Value }));
    await clients.ec2.send(new CreateTagsCommand({ Resources: resources, Tags: tags }));
    if (olds.namePrefix !== news.namePrefix)
      report({ step: "retention", message: `${olds.amiId} moved from family ${olds.namePrefix} to ${news.namePrefix} (${TAG.namePrefix}); an AMI's name cannot change, so it keeps its registered name` });
    await applyRetention(news, olds.amiId, { clients, report }, { sweepOrphans: false });
    return { outs: { ...news, ...outputs } };
  });
}

/** Refresh: the AMI as it is now, or no id when it is gone. */
export async function read(id: string, props?: NixosAmiState): Promise<pulumi.dynamic.ReadResult<NixosAmiState>> {
  if (props === undefined) throw new ImagePipelineError("INVALID_INPUT", `cannot read ${id} without its state (region, endpoints)`);
  return withClients(props, async (clients) => {
    const image = await describeImage(clients.ec2, id);
    if (!image) return {};
    return { id, props: { ...props, amiId: image.amiId, snapshotId: image.snapshotId || props.snapshotId } };
  });
}

/** Deregisters the AMI and deletes its snapshot and S3 object; whatever is already gone is fine. */
export async function remove(props: NixosAmiState, report: Reporter): Promise<void> {
  await withClients(props, async (clients) => {
    const removed = await removeImageParts(clients, { amiId: props.amiId, snapshotId: props.snapshotId, bucket: props.bucket, s3Key: props.s3Key });
    report({ step: "delete", message: `${props.amiId}: AMI ${removed.ami ? "deregistered" : "already gone"}, snapshot ${removed.snapshot ? "deleted" : "already gone"}` });
  });
}

async function withClients<T>(inputs: Pick<NixosAmiInputs, "region" | "endpoints" | "tuning">, work: (clients: AwsClients) => Promise<T>): Promise<T> {
  // State written before tuning grew the retry settings lacks them: fill from the defaults.
  const clients = createClients(inputs.region, inputs.endpoints, { ...DEFAULT_TUNING, ...inputs.tuning });
  try {
    return await work(clients);
  } finally {
    destroyClients(clients);
  }
}
