/**
 * The EC2 Query actions the image pipeline uses. Parameter names are the wire names (what the SDK
 * and awscli put in the form: `Filter.N`, `ImageId.N`, `BlockDeviceMapping.N.Ebs.*`; see the
 * botocore model ec2/2016-11-15), and results are the XML element names of the response shapes.
 */
import { Ec2ApiError, invalidParameterValue } from "./errors.ts";
import type { FaultPlan } from "./faults.ts";
import { matchesFilters, readFilters } from "./filters.ts";
import type { QueryReader } from "./query.ts";
import {
  ACCOUNT_ID,
  newId,
  type BlockDeviceMapping,
  type Ec2State,
  type Image,
  type ImportTask,
  type Instance,
  type InstanceState,
  type LaunchTemplate,
  type LaunchTemplateVersion,
  type Snapshot,
  type Tags,
} from "./state.ts";
import type { XmlStruct, XmlValue } from "./xml.ts";

export interface Ec2Context {
  readonly state: Ec2State;
  readonly now: number;
  readonly faults: FaultPlan;
  readonly importDurationMs: number;
  /** How long a registered image stays `pending` before `available`. */
  readonly imageAvailableMs: number;
  /** Answers whether the S3 object an import reads exists, and its size (and bytes, with `read`); undefined = not checked. */
  readonly headS3Object: ((bucket: string, key: string, read: boolean) => Promise<S3ObjectCheck>) | undefined;
}

export type S3ObjectCheck =
  | { readonly exists: true; readonly size: number; readonly blocks: Map<number, Buffer> | undefined }
  | { readonly exists: false; readonly detail: string };

export type Ec2Handler = (params: QueryReader, context: Ec2Context) => XmlStruct | Promise<XmlStruct>;

// ---------- shared pieces ----------

function tagSet(tags: Tags): XmlValue {
  if (tags.size === 0) return undefined;
  return [...tags].map(([key, value]) => ({ key, value }));
}

function readTags(tagReaders: QueryReader[]): Array<[string, string]> {
  return tagReaders.map((tag) => {
    const key = tag.requiredString("Key");
    if (key.toLowerCase().startsWith("aws:")) {
      throw invalidParameterValue(`Tag keys starting with 'aws:' are reserved for internal use (key '${key}')`);
    }
    if (key.length > 128) throw invalidParameterValue(`Tag key exceeds the maximum length of 128 characters: '${key}'`);
    return [key, tag.string("Value") ?? ""];
  });
}

/** TagSpecification.N: every ResourceType must be one the action can tag, as in EC2. */
function readTagSpecifications(params: QueryReader, allowed: readonly string[]): Array<[string, string]> {
  const tags: Array<[string, string]> = [];
  for (const spec of params.structs("TagSpecification")) {
    const resourceType = spec.requiredString("ResourceType");
    if (!allowed.includes(resourceType)) {
      throw invalidParameterValue(`'${resourceType}' is not a valid taggable resource type for this operation.`);
    }
    tags.push(...readTags(spec.structs("Tag")));
  }
  return tags;
}

/** Key-order-independent fingerprint of a request, to detect a ClientToken reused for another request. */
export function fingerprint(value: unknown): string {
  return JSON.stringify(value, (_key, member: unknown) =>
    member !== null && typeof member === "object" && !Array.isArray(member)
      ? Object.fromEntries(Object.entries(member).sort(([a], [b]) => a.localeCompare(b)))
      : member,
  );
}

function ownersMatch(owners: readonly string[]): boolean {
  return owners.length === 0 || owners.some((owner) => owner === "self" || owner === ACCOUNT_ID);
}

// ---------- VM Import (ImportSnapshot) ----------

const IMPORT_FORMATS = ["RAW", "VHD", "VMDK"];

function importTaskItem(task: ImportTask): XmlStruct {
  return {
    description: task.description,
    importTaskId: task.importTaskId,
    snapshotTaskDetail: {
      description: task.description,
      diskImageSize: task.diskImageSize,
      encrypted: false,
      format: task.format,
      progress: task.progress === undefined ? undefined : String(task.progress),
      snapshotId: task.snapshotId,
      status: task.status,
      statusMessage: task.statusMessage,
      userBucket: { s3Bucket: task.s3Bucket, s3Key: task.s3Key },
    },
    tagSet: tagSet(task.tags),
  };
}

async function importSnapshot(params: QueryReader, context: Ec2Context): Promise<XmlStruct> {
  const clientToken = params.string("ClientToken");
  const requestFingerprint = fingerprint(Object.fromEntries(Object.entries(params.params).filter(([name]) => name !== "ClientToken")));
  if (clientToken !== undefined) {
    const previous = [...context.state.importTasks.values()].find((task) => task.clientToken === clientToken);
    if (previous !== undefined) {
      if (previous.requestFingerprint !== requestFingerprint) {
        throw new Ec2ApiError(
          "IdempotentParameterMismatch",
          `The client token '${clientToken}' was already used for a different ImportSnapshot request`,
        );
      }
      return importTaskItem(previous);
    }
  }
  const disk = params.struct("DiskContainer");
  if (disk.string("Url") !== undefined) {
    throw new Ec2ApiError("InvalidParameter", "This fake imports from DiskContainer.UserBucket only; DiskContainer.Url is not supported");
  }
  const bucket = disk.struct("UserBucket");
  const s3Bucket = bucket.requiredString("S3Bucket");
  const s3Key = bucket.requiredString("S3Key");
  const format = disk.requiredString("Format").toUpperCase();
  if (!IMPORT_FORMATS.includes(format)) {
    throw invalidParameterValue(`Value (${format}) for parameter DiskContainer.Format is invalid. Expected one of: ${IMPORT_FORMATS.join(", ")}`);
  }
  const tags = readTagSpecifications(params, ["import-snapshot-task"]);

  let failure: ImportTask["failure"];
  let diskImageSize: number | undefined;
  let rawBlocks: Map<number, Buffer> | undefined;
  const injected = context.faults.takeImportFailure();
  if (injected !== undefined) failure = { message: injected, at: context.now + context.importDurationMs * 0.5 };
  if (context.headS3Object !== undefined) {
    // A RAW object is the disk as is: its blocks become the snapshot's (for ListSnapshotBlocks).
    const object = await context.headS3Object(s3Bucket, s3Key, format === "RAW");
    if (object.exists) {
      diskImageSize = object.size;
      rawBlocks = object.blocks;
    }
    else {
      failure = {
        message: `ClientError: Disk validation failed [Unable to read S3 object s3://${s3Bucket}/${s3Key}: ${object.detail}]`,
        at: context.now + context.importDurationMs * 0.1,
      };
    }
  }
  const importTaskId = newId("import-snap");
  const task: ImportTask = {
    importTaskId,
    clientToken,
    requestFingerprint,
    description: params.string("Description") ?? disk.string("Description"),
    format,
    s3Bucket,
    s3Key,
    createdAt: context.now,
    durationMs: context.importDurationMs,
    diskImageSize,
    rawBlocks,
    failure,
    status: "active",
    statusMessage: "pending",
    progress: 3,
    snapshotId: undefined,
    tags: new Map(tags),
  };
  context.state.importTasks.set(importTaskId, task);
  return importTaskItem(task);
}

function describeImportSnapshotTasks(params: QueryReader, context: Ec2Context): XmlStruct {
  const ids = params.strings("ImportTaskId");
  const filters = readFilters(params.structs("Filters"));
  for (const id of ids) {
    if (!context.state.importTasks.has(id)) {
      throw new Ec2ApiError("InvalidConversionTaskId.Malformed", `The import task ID '${id}' is malformed or does not exist`);
    }
  }
  const tasks = [...context.state.importTasks.values()].filter(
    (task) =>
      (ids.length === 0 || ids.includes(task.importTaskId)) &&
      matchesFilters(filters, { "task-state": task.status, "import-task-id": task.importTaskId }, task.tags),
  );
  return { importSnapshotTaskSet: tasks.map(importTaskItem) };
}

function cancelImportTask(params: QueryReader, context: Ec2Context): XmlStruct {
  const id = params.requiredString("ImportTaskId");
  const task = context.state.importTasks.get(id);
  if (task === undefined) throw new Ec2ApiError("InvalidConversionTaskId", `The import task '${id}' does not exist`);
  if (task.status !== "active") {
    throw new Ec2ApiError("IncorrectState", `The import task '${id}' is in state '${task.status}' and cannot be cancelled`);
  }
  const previousState = task.status;
  task.failure = { message: params.string("CancelReason") ?? "User initiated task cancelation", at: context.now };
  task.status = "deleting";
  task.statusMessage = task.failure.message;
  task.progress = undefined;
  return { importTaskId: id, previousState, state: "deleting" };
}

// ---------- snapshots ----------

function snapshotItem(snapshot: Snapshot): XmlStruct {
  return {
    snapshotId: snapshot.snapshotId,
    // Snapshots that come from VM Import or the EBS direct APIs have no source volume.
    volumeId: "vol-ffffffff",
    status: snapshot.state,
    statusMessage: snapshot.stateMessage,
    startTime: snapshot.startTime,
    progress: snapshot.state === "completed" ? "100%" : "0%",
    ownerId: ACCOUNT_ID,
    volumeSize: snapshot.volumeSizeGiB,
    description: snapshot.description,
    encrypted: false,
    storageTier: "standard",
    tagSet: tagSet(snapshot.tags),
  };
}

function requireSnapshot(state: Ec2State, snapshotId: string): Snapshot {
  const snapshot = state.snapshots.get(snapshotId);
  if (snapshot === undefined) throw new Ec2ApiError("InvalidSnapshot.NotFound", `The snapshot '${snapshotId}' does not exist.`);
  return snapshot;
}

function describeSnapshots(params: QueryReader, context: Ec2Context): XmlStruct {
  const ids = params.strings("SnapshotId");
  const filters = readFilters(params.structs("Filter"));
  for (const id of ids) requireSnapshot(context.state, id);
  const snapshots = ownersMatch(params.strings("Owner"))
    ? [...context.state.snapshots.values()].filter(
        (snapshot) =>
          (ids.length === 0 || ids.includes(snapshot.snapshotId)) &&
          matchesFilters(
            filters,
            {
              "snapshot-id": snapshot.snapshotId,
              status: snapshot.state,
              description: snapshot.description,
              "owner-id": ACCOUNT_ID,
              "volume-size": String(snapshot.volumeSizeGiB),
              "volume-id": "vol-ffffffff",
            },
            snapshot.tags,
          ),
      )
    : [];
  return { snapshotSet: snapshots.map(snapshotItem) };
}

function liveImages(state: Ec2State): Image[] {
  return [...state.images.values()].filter((image) => image.state !== "deregistered");
}

function deleteSnapshot(params: QueryReader, context: Ec2Context): XmlStruct {
  const id = params.requiredString("SnapshotId");
  requireSnapshot(context.state, id);
  const user = liveImages(context.state).find((image) =>
    image.blockDeviceMappings.some((mapping) => mapping.ebs?.snapshotId === id),
  );
  if (user !== undefined) {
    throw new Ec2ApiError("InvalidSnapshot.InUse", `The snapshot ${id} is currently in use by ${user.imageId}`);
  }
  context.state.snapshots.delete(id);
  return { return: true };
}

function resourceIds(params: QueryReader): string[] {
  const ids = params.strings("ResourceId");
  if (ids.length === 0) throw new Ec2ApiError("MissingParameter", "The request must contain the parameter ResourceId");
  return ids;
}

/** The tag maps of the resources, every one checked before the caller changes any, as EC2 does. */
function taggedResources(ids: readonly string[], state: Ec2State): Tags[] {
  return ids.map((id): Tags => {
    if (id.startsWith("import-snap-")) {
      const task = state.importTasks.get(id);
      if (task === undefined) throw new Ec2ApiError("InvalidID", `The ID '${id}' is not valid`);
      return task.tags;
    }
    if (id.startsWith("snap-")) return requireSnapshot(state, id).tags;
    if (id.startsWith("ami-")) return requireLiveImage(state, id).tags;
    throw new Ec2ApiError("InvalidID", `The ID '${id}' is not valid`);
  });
}

function createTags(params: QueryReader, context: Ec2Context): XmlStruct {
  const ids = resourceIds(params);
  const tags = readTags(params.structs("Tag"));
  if (tags.length === 0) throw new Ec2ApiError("MissingParameter", "The request must contain the parameter Tag");
  const targets = taggedResources(ids, context.state);
  for (const target of targets) for (const [key, value] of tags) target.set(key, value);
  return { return: true };
}

/**
 * DeleteTags: a `Tag.N` with a `Value` removes the tag only while it has that value; one without
 * removes it whatever its value; no `Tag.N` at all removes every tag but the reserved `aws:` ones.
 */
function deleteTags(params: QueryReader, context: Ec2Context): XmlStruct {
  const ids = resourceIds(params);
  const tags = params.structs("Tag").map((tag) => ({ key: tag.requiredString("Key"), value: tag.string("Value") }));
  for (const target of taggedResources(ids, context.state)) {
    if (tags.length === 0) {
      for (const key of target.keys()) if (!key.toLowerCase().startsWith("aws:")) target.delete(key);
      continue;
    }
    for (const { key, value } of tags) if (value === undefined || target.get(key) === value) target.delete(key);
  }
  return { return: true };
}

// ---------- images ----------

const AMI_NAME = /^[A-Za-z0-9()[\] ./\-'@_]{3,128}$/;
const ARCHITECTURES = ["i386", "x86_64", "arm64", "x86_64_mac", "arm64_mac"];
const VOLUME_TYPES = ["standard", "io1", "io2", "gp2", "gp3", "sc1", "st1"];
const BOOT_MODES = ["legacy-bios", "uefi", "uefi-preferred"];

function oneOf(name: string, value: string | undefined, allowed: readonly string[]): void {
  if (value !== undefined && !allowed.includes(value)) {
    throw invalidParameterValue(`Value (${value}) for parameter ${name} is invalid. Valid values: ${allowed.join(", ")}`);
  }
}

function requireLiveImage(state: Ec2State, imageId: string): Image {
  const image = state.images.get(imageId);
  if (image === undefined) throw new Ec2ApiError("InvalidAMIID.NotFound", `The image id '[${imageId}]' does not exist`);
  if (image.state === "deregistered") {
    throw new Ec2ApiError("InvalidAMIID.Unavailable", `The image ID '${imageId}' is no longer available`);
  }
  return image;
}

function readBlockDeviceMapping(mapping: QueryReader, context: Ec2Context, index: number): BlockDeviceMapping {
  const deviceName = mapping.requiredString("DeviceName");
  if (mapping.params.Ebs === undefined) return { deviceName, ebs: undefined };
  const ebs = mapping.struct("Ebs");
  const snapshotId = ebs.string("SnapshotId");
  if (snapshotId === undefined) {
    throw new Ec2ApiError("InvalidBlockDeviceMapping", `BlockDeviceMapping.${index}.Ebs needs a SnapshotId to register an image`);
  }
  const snapshot = requireSnapshot(context.state, snapshotId);
  if (snapshot.state !== "completed") {
    throw new Ec2ApiError("IncorrectState", `Snapshot '${snapshotId}' is in state '${snapshot.state}'; an image can be registered from a 'completed' snapshot only`);
  }
  const volumeType = ebs.string("VolumeType") ?? "gp2";
  oneOf(`BlockDeviceMapping.${index}.Ebs.VolumeType`, volumeType, VOLUME_TYPES);
  const volumeSizeGiB = ebs.integer("VolumeSize") ?? snapshot.volumeSizeGiB;
  if (volumeSizeGiB < snapshot.volumeSizeGiB) {
    throw new Ec2ApiError(
      "InvalidBlockDeviceMapping",
      `Volume of size ${volumeSizeGiB}GB is smaller than snapshot '${snapshotId}', expect size >= ${snapshot.volumeSizeGiB}GB`,
    );
  }
  return {
    deviceName,
    ebs: {
      snapshotId,
      volumeSizeGiB,
      volumeType,
      deleteOnTermination: ebs.boolean("DeleteOnTermination") ?? true,
      encrypted: ebs.boolean("Encrypted") ?? false,
      iops: ebs.integer("Iops"),
      throughput: ebs.integer("Throughput"),
    },
  };
}

function registerImage(params: QueryReader, context: Ec2Context): XmlStruct {
  if (params.string("ImageLocation") !== undefined) {
    throw new Ec2ApiError("InvalidParameter", "This fake registers EBS-backed images only; ImageLocation is not supported");
  }
  const name = params.requiredString("Name");
  if (!AMI_NAME.test(name)) {
    throw new Ec2ApiError(
      "InvalidAMIName.Malformed",
      `AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_' (got '${name}')`,
    );
  }
  const duplicate = liveImages(context.state).find((image) => image.name === name);
  if (duplicate !== undefined) {
    throw new Ec2ApiError("InvalidAMIName.Duplicate", `AMI name ${name} is already in use by AMI ${duplicate.imageId}`);
  }
  // EC2's defaults when these are unset (i386, paravirtual, /dev/sda1), which is why callers set them.
  const architecture = params.string("Architecture") ?? "i386";
  oneOf("Architecture", architecture, ARCHITECTURES);
  const virtualizationType = params.string("VirtualizationType") ?? "paravirtual";
  oneOf("VirtualizationType", virtualizationType, ["hvm", "paravirtual"]);
  const rootDeviceName = params.string("RootDeviceName") ?? "/dev/sda1";
  const sriovNetSupport = params.string("SriovNetSupport");
  oneOf("SriovNetSupport", sriovNetSupport, ["simple"]);
  const bootMode = params.string("BootMode");
  oneOf("BootMode", bootMode, BOOT_MODES);
  const imdsSupport = params.string("ImdsSupport");
  oneOf("ImdsSupport", imdsSupport, ["v2.0"]);
  const tpmSupport = params.string("TpmSupport");
  oneOf("TpmSupport", tpmSupport, ["v2.0"]);
  const tags = readTagSpecifications(params, ["image"]);

  const blockDeviceMappings = params.structs("BlockDeviceMapping").map((mapping, i) => readBlockDeviceMapping(mapping, context, i + 1));
  const devices = new Set<string>();
  for (const mapping of blockDeviceMappings) {
    if (devices.has(mapping.deviceName)) {
      throw new Ec2ApiError("InvalidBlockDeviceMapping", `The device '${mapping.deviceName}' is used in more than one block-device mapping`);
    }
    devices.add(mapping.deviceName);
  }
  if (!blockDeviceMappings.some((mapping) => mapping.deviceName === rootDeviceName && mapping.ebs !== undefined)) {
    throw new Ec2ApiError(
      "InvalidBlockDeviceMapping",
      `The root device name '${rootDeviceName}' has no EBS block device mapping; add BlockDeviceMapping.N.DeviceName=${rootDeviceName} with Ebs.SnapshotId`,
    );
  }
  const imageId = newId("ami");
  context.state.images.set(imageId, {
    imageId,
    name,
    description: params.string("Description"),
    architecture,
    rootDeviceName,
    blockDeviceMappings,
    virtualizationType,
    enaSupport: params.boolean("EnaSupport"),
    sriovNetSupport,
    bootMode,
    imdsSupport,
    tpmSupport,
    creationDate: new Date(context.now),
    availableAt: context.now + context.imageAvailableMs,
    state: context.imageAvailableMs > 0 ? "pending" : "available",
    tags: new Map(tags),
  });
  return { imageId };
}

function imageItem(image: Image): XmlStruct {
  return {
    imageId: image.imageId,
    imageLocation: `${ACCOUNT_ID}/${image.name}`,
    imageState: image.state,
    imageOwnerId: ACCOUNT_ID,
    creationDate: image.creationDate,
    isPublic: false,
    architecture: image.architecture,
    imageType: "machine",
    name: image.name,
    description: image.description,
    rootDeviceType: "ebs",
    rootDeviceName: image.rootDeviceName,
    // An image's mappings are the one list EC2 does not call `...Set`.
    blockDeviceMapping: image.blockDeviceMappings.map((mapping) => ({
      deviceName: mapping.deviceName,
      ebs:
        mapping.ebs === undefined
          ? undefined
          : {
              snapshotId: mapping.ebs.snapshotId,
              volumeSize: mapping.ebs.volumeSizeGiB,
              deleteOnTermination: mapping.ebs.deleteOnTermination,
              volumeType: mapping.ebs.volumeType,
              iops: mapping.ebs.iops,
              throughput: mapping.ebs.throughput,
              encrypted: mapping.ebs.encrypted,
            },
    })),
    virtualizationType: image.virtualizationType,
    tagSet: tagSet(image.tags),
    hypervisor: "xen",
    enaSupport: image.enaSupport,
    sriovNetSupport: image.sriovNetSupport,
    bootMode: image.bootMode,
    tpmSupport: image.tpmSupport,
    imdsSupport: image.imdsSupport,
    platformDetails: "Linux/UNIX",
    usageOperation: "RunInstances",
  };
}

function describeImages(params: QueryReader, context: Ec2Context): XmlStruct {
  const ids = params.strings("ImageId");
  const filters = readFilters(params.structs("Filter"));
  for (const id of ids) {
    const image = context.state.images.get(id);
    if (image === undefined || image.state === "deregistered") {
      throw new Ec2ApiError("InvalidAMIID.NotFound", `The image id '[${id}]' does not exist`);
    }
  }
  const images = ownersMatch(params.strings("Owner"))
    ? liveImages(context.state).filter(
        (image) =>
          (ids.length === 0 || ids.includes(image.imageId)) &&
          matchesFilters(
            filters,
            {
              name: image.name,
              "image-id": image.imageId,
              state: image.state,
              architecture: image.architecture,
              description: image.description,
              "owner-id": ACCOUNT_ID,
              "boot-mode": image.bootMode,
              "virtualization-type": image.virtualizationType,
              "block-device-mapping.snapshot-id": image.blockDeviceMappings.flatMap((m) => (m.ebs === undefined ? [] : [m.ebs.snapshotId])),
            },
            image.tags,
          ),
      )
    : [];
  return { imagesSet: images.map(imageItem) };
}

function deregisterImage(params: QueryReader, context: Ec2Context): XmlStruct {
  const image = requireLiveImage(context.state, params.requiredString("ImageId"));
  image.state = "deregistered";
  if (params.boolean("DeleteAssociatedSnapshots") !== true) return { return: true };
  const results = image.blockDeviceMappings.flatMap((mapping) => {
    const snapshotId = mapping.ebs?.snapshotId;
    if (snapshotId === undefined) return [];
    const stillUsed = liveImages(context.state).some((other) => other.blockDeviceMappings.some((m) => m.ebs?.snapshotId === snapshotId));
    if (!stillUsed) context.state.snapshots.delete(snapshotId);
    return [{ snapshotId, returnCode: stillUsed ? "warn-skipped-snapshot-in-use" : "success" }];
  });
  return { return: true, deleteSnapshotResultSet: results };
}


// ---------- instances (only what retention asks: which instances use an AMI) ----------

const INSTANCE_STATE_CODES: Readonly<Record<InstanceState, number>> = {
  pending: 0,
  running: 16,
  "shutting-down": 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

function instanceItem(instance: Instance): XmlStruct {
  return {
    instanceId: instance.instanceId,
    imageId: instance.imageId,
    instanceState: { code: INSTANCE_STATE_CODES[instance.state], name: instance.state },
    instanceType: instance.instanceType,
    launchTime: instance.launchTime,
    architecture: "x86_64",
    rootDeviceType: "ebs",
    virtualizationType: "hvm",
    tagSet: tagSet(instance.tags),
  };
}

function reservationSet(instances: readonly Instance[]): XmlValue {
  const byReservation = new Map<string, Instance[]>();
  for (const instance of instances) byReservation.set(instance.reservationId, [...(byReservation.get(instance.reservationId) ?? []), instance]);
  return [...byReservation].map(([reservationId, members]) => ({
    reservationId,
    ownerId: ACCOUNT_ID,
    groupSet: [],
    instancesSet: members.map(instanceItem),
  }));
}

/** RunInstances: launches `MinCount` instances `running` at once (no capacity, no network). */
function runInstances(params: QueryReader, context: Ec2Context): XmlStruct {
  const imageId = params.requiredString("ImageId");
  const image = requireLiveImage(context.state, imageId);
  if (image.state !== "available") throw new Ec2ApiError("InvalidAMIID.Unavailable", `The image '${imageId}' is not available`);
  const count = params.integer("MinCount") ?? 1;
  if (count < 1 || (params.integer("MaxCount") ?? count) < count) throw invalidParameterValue("MinCount must be at least 1 and at most MaxCount");
  const reservationId = newId("r");
  const tags = readTagSpecifications(params, ["instance"]);
  const launched: Instance[] = [];
  for (let i = 0; i < count; i++) {
    const instance: Instance = {
      instanceId: newId("i"),
      reservationId,
      imageId,
      instanceType: params.string("InstanceType") ?? "m1.small",
      launchTime: new Date(context.now),
      state: "running",
      tags: new Map(tags),
    };
    context.state.instances.set(instance.instanceId, instance);
    launched.push(instance);
  }
  return { reservationId, ownerId: ACCOUNT_ID, groupSet: [], instancesSet: launched.map(instanceItem) };
}

function terminateInstances(params: QueryReader, context: Ec2Context): XmlStruct {
  const ids = params.strings("InstanceId");
  if (ids.length === 0) throw new Ec2ApiError("MissingParameter", "The request must contain the parameter InstanceId");
  const instances = ids.map((id) => {
    const instance = context.state.instances.get(id);
    if (instance === undefined) throw new Ec2ApiError("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
    return instance;
  });
  return {
    instancesSet: instances.map((instance) => {
      const previous = instance.state;
      // AWS passes shutting-down first; the fake terminates at once (it has no clock for it).
      instance.state = "terminated";
      return {
        instanceId: instance.instanceId,
        previousState: { code: INSTANCE_STATE_CODES[previous], name: previous },
        currentState: { code: INSTANCE_STATE_CODES.terminated, name: "terminated" },
      };
    }),
  };
}

/** DescribeInstances: terminated instances stay listed (AWS keeps them about an hour). */
function describeInstances(params: QueryReader, context: Ec2Context): XmlStruct {
  const ids = params.strings("InstanceId");
  for (const id of ids) {
    if (!context.state.instances.has(id)) throw new Ec2ApiError("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
  }
  const filters = readFilters(params.structs("Filter"));
  const instances = [...context.state.instances.values()].filter(
    (instance) =>
      (ids.length === 0 || ids.includes(instance.instanceId)) &&
      matchesFilters(
        filters,
        {
          "image-id": instance.imageId,
          "instance-id": instance.instanceId,
          "instance-state-name": instance.state,
          "instance-state-code": String(INSTANCE_STATE_CODES[instance.state]),
          "instance-type": instance.instanceType,
          "reservation-id": instance.reservationId,
          "owner-id": ACCOUNT_ID,
        },
        instance.tags,
      ),
  );
  return { reservationSet: reservationSet(instances) };
}

// ---------- launch templates ----------

const LAUNCH_TEMPLATE_NAME = /^[a-zA-Z0-9().\-/_]{3,128}$/;

function readLaunchTemplateData(params: QueryReader): Pick<LaunchTemplateVersion, "imageId" | "instanceType"> {
  const data = params.struct("LaunchTemplateData");
  if (params.params.LaunchTemplateData === undefined) throw new Ec2ApiError("MissingParameter", "The request must contain the parameter LaunchTemplateData");
  return { imageId: data.string("ImageId"), instanceType: data.string("InstanceType") };
}

function findLaunchTemplate(params: QueryReader, context: Ec2Context): LaunchTemplate {
  const id = params.string("LaunchTemplateId");
  const name = params.string("LaunchTemplateName");
  if ((id === undefined) === (name === undefined)) throw invalidParameterValue("Specify either LaunchTemplateId or LaunchTemplateName");
  const template = [...context.state.launchTemplates.values()].find((candidate) => candidate.launchTemplateId === id || candidate.name === name);
  if (template === undefined) {
    throw id !== undefined
      ? new Ec2ApiError("InvalidLaunchTemplateId.NotFound", `The specified launch template, with template ID ${id}, does not exist.`)
      : new Ec2ApiError("InvalidLaunchTemplateName.NotFoundException", `The specified launch template, with template name ${name}, does not exist.`);
  }
  return template;
}

function launchTemplateItem(template: LaunchTemplate): XmlStruct {
  return {
    launchTemplateId: template.launchTemplateId,
    launchTemplateName: template.name,
    createTime: template.createTime,
    createdBy: `arn:aws:iam::${ACCOUNT_ID}:root`,
    defaultVersionNumber: template.defaultVersion,
    latestVersionNumber: template.versions.length,
    tagSet: tagSet(template.tags),
  };
}

function createLaunchTemplate(params: QueryReader, context: Ec2Context): XmlStruct {
  const name = params.requiredString("LaunchTemplateName");
  if (!LAUNCH_TEMPLATE_NAME.test(name)) throw invalidParameterValue(`Launch template name '${name}' is invalid`);
  if ([...context.state.launchTemplates.values()].some((template) => template.name === name)) {
    throw new Ec2ApiError("InvalidLaunchTemplateName.AlreadyExistsException", `Launch template name already in use.`);
  }
  const template: LaunchTemplate = {
    launchTemplateId: newId("lt"),
    name,
    createTime: new Date(context.now),
    defaultVersion: 1,
    versions: [{ versionNumber: 1, description: params.string("VersionDescription"), createTime: new Date(context.now), ...readLaunchTemplateData(params) }],
    tags: new Map(readTagSpecifications(params, ["launch-template"])),
  };
  context.state.launchTemplates.set(template.launchTemplateId, template);
  return { launchTemplate: launchTemplateItem(template) };
}

function createLaunchTemplateVersion(params: QueryReader, context: Ec2Context): XmlStruct {
  const template = findLaunchTemplate(params, context);
  const version: LaunchTemplateVersion = {
    versionNumber: template.versions.length + 1,
    description: params.string("VersionDescription"),
    createTime: new Date(context.now),
    ...readLaunchTemplateData(params),
  };
  template.versions.push(version);
  return { launchTemplateVersion: launchTemplateVersionItem(template, version, false, context) };
}

function launchTemplateVersionItem(template: LaunchTemplate, version: LaunchTemplateVersion, resolveAlias: boolean, context: Ec2Context): XmlStruct {
  const alias = version.imageId?.startsWith("resolve:ssm:") ? version.imageId.slice("resolve:ssm:".length) : undefined;
  return {
    launchTemplateId: template.launchTemplateId,
    launchTemplateName: template.name,
    versionNumber: version.versionNumber,
    versionDescription: version.description,
    createTime: version.createTime,
    createdBy: `arn:aws:iam::${ACCOUNT_ID}:root`,
    defaultVersion: version.versionNumber === template.defaultVersion,
    launchTemplateData: {
      // With ResolveAlias, EC2 shows the AMI an SSM parameter resolves to instead of the alias.
      imageId: resolveAlias && alias !== undefined ? (context.state.ssmParameters.get(alias) ?? version.imageId) : version.imageId,
      instanceType: version.instanceType,
    },
  };
}

/** DescribeLaunchTemplates (`LaunchTemplateId.N`, `LaunchTemplateName.N`, `Filter.N`), with NextToken paging. */
function describeLaunchTemplates(params: QueryReader, context: Ec2Context): XmlStruct {
  const ids = params.strings("LaunchTemplateId");
  const names = params.strings("LaunchTemplateName");
  const filters = readFilters(params.structs("Filter"));
  const templates = [...context.state.launchTemplates.values()].filter(
    (template) =>
      (ids.length === 0 || ids.includes(template.launchTemplateId)) &&
      (names.length === 0 || names.includes(template.name)) &&
      matchesFilters(filters, { "launch-template-name": template.name }, template.tags),
  );
  const page = paginate(templates, params, 1, 200);
  return { launchTemplates: page.items.map(launchTemplateItem), nextToken: page.nextToken };
}

/**
 * DescribeLaunchTemplateVersions of one template (`LaunchTemplateId` or `LaunchTemplateName`,
 * optional `LaunchTemplateVersion.N` with numbers, `$Latest`, `$Default`). The account-wide form
 * (no template, `$Latest`/`$Default` only) is not modelled: it answers every template's default.
 */
function describeLaunchTemplateVersions(params: QueryReader, context: Ec2Context): XmlStruct {
  const resolveAlias = params.boolean("ResolveAlias") ?? false;
  const wanted = params.strings("LaunchTemplateVersion");
  const filters = readFilters(params.structs("Filter"));
  const hasTemplate = params.string("LaunchTemplateId") !== undefined || params.string("LaunchTemplateName") !== undefined;
  const templates = hasTemplate ? [findLaunchTemplate(params, context)] : [...context.state.launchTemplates.values()];
  const versions = templates.flatMap((template) =>
    template.versions
      .filter((version) => {
        if (!hasTemplate) return version.versionNumber === template.defaultVersion;
        if (wanted.length === 0) return true;
        return wanted.some(
          (name) =>
            (name === "$Latest" && version.versionNumber === template.versions.length) ||
            (name === "$Default" && version.versionNumber === template.defaultVersion) ||
            name === String(version.versionNumber),
        );
      })
      .filter((version) => matchesFilters(filters, { "image-id": version.imageId, "instance-type": version.instanceType }, new Map()))
      .map((version) => ({ template, version })),
  );
  const page = paginate(versions, params, 1, 200);
  return {
    launchTemplateVersionSet: page.items.map(({ template, version }) => launchTemplateVersionItem(template, version, resolveAlias, context)),
    nextToken: page.nextToken,
  };
}

/** EC2's opaque NextToken paging: here the offset, base64. `MaxResults` within [min, max]. */
function paginate<T>(items: readonly T[], params: QueryReader, min: number, max: number): { items: T[]; nextToken: string | undefined } {
  const token = params.string("NextToken");
  const offset = token === undefined ? 0 : Number(Buffer.from(token, "base64").toString("utf8"));
  if (!Number.isInteger(offset) || offset < 0) throw invalidParameterValue(`Invalid NextToken '${token}'`);
  const size = params.integer("MaxResults") ?? max;
  if (size < min || size > max) throw invalidParameterValue(`MaxResults must be from ${min} to ${max}, got ${size}`);
  const end = offset + size;
  return { items: items.slice(offset, end), nextToken: end < items.length ? Buffer.from(String(end)).toString("base64") : undefined };
}

export const EC2_ACTIONS: Readonly<Record<string, Ec2Handler>> = {
  ImportSnapshot: importSnapshot,
  DescribeImportSnapshotTasks: describeImportSnapshotTasks,
  CancelImportTask: cancelImportTask,
  DescribeSnapshots: describeSnapshots,
  DeleteSnapshot: deleteSnapshot,
  CreateTags: createTags,
  DeleteTags: deleteTags,
  RegisterImage: registerImage,
  DescribeImages: describeImages,
  DeregisterImage: deregisterImage,
  RunInstances: runInstances,
  TerminateInstances: terminateInstances,
  DescribeInstances: describeInstances,
  CreateLaunchTemplate: createLaunchTemplate,
  CreateLaunchTemplateVersion: createLaunchTemplateVersion,
  DescribeLaunchTemplates: describeLaunchTemplates,
  DescribeLaunchTemplateVersions: describeLaunchTemplateVersions,
};
