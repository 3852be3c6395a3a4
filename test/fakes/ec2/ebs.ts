/**
 * EBS direct APIs (REST-JSON, botocore ebs/2019-11-02): StartSnapshot, PutSnapshotBlock and
 * CompleteSnapshot, with the checks AWS makes on block length, per-block SHA-256 and the LINEAR
 * aggregate checksum; ListSnapshotBlocks and GetSnapshotBlock to read a completed snapshot back
 * (also one VM Import made from a RAW object). Snapshots started here are the same objects EC2's
 * DescribeSnapshots lists.
 */
import { createHash } from "node:crypto";
import { EbsApiError } from "./errors.ts";
import { fingerprint } from "./ec2-actions.ts";
import type { FaultPlan } from "./faults.ts";
import { ACCOUNT_ID, EBS_BLOCK_SIZE, newId, type Ec2State, type Snapshot } from "./state.ts";

export type EbsAction = "StartSnapshot" | "PutSnapshotBlock" | "CompleteSnapshot" | "ListSnapshotBlocks" | "GetSnapshotBlock";

export interface EbsRoute {
  readonly action: EbsAction;
  readonly snapshotId: string | undefined;
  readonly blockIndex: number | undefined;
  /** The query string (`maxResults`, `pageToken`, `startingBlockIndex`, `blockToken`). */
  readonly query: URLSearchParams;
}

/** Maps a method and URL to an EBS action; undefined when the path is not an EBS direct one. */
export function matchEbsRoute(method: string, url: URL): EbsRoute | undefined {
  const path = url.pathname;
  const query = url.searchParams;
  const none = { snapshotId: undefined, blockIndex: undefined, query };
  if (method === "POST" && path === "/snapshots") return { action: "StartSnapshot", ...none };
  const block = /^\/snapshots\/([^/]+)\/blocks\/([^/]+)$/.exec(path);
  if ((method === "PUT" || method === "GET") && block !== null) {
    const at = { snapshotId: decodeURIComponent(block[1] as string), blockIndex: Number(block[2]), query };
    return { action: method === "PUT" ? "PutSnapshotBlock" : "GetSnapshotBlock", ...at };
  }
  const blocks = /^\/snapshots\/([^/]+)\/blocks$/.exec(path);
  if (method === "GET" && blocks !== null) return { action: "ListSnapshotBlocks", ...none, snapshotId: decodeURIComponent(blocks[1] as string) };
  const completion = /^\/snapshots\/completion\/([^/]+)$/.exec(path);
  if (method === "POST" && completion !== null) {
    return { action: "CompleteSnapshot", ...none, snapshotId: decodeURIComponent(completion[1] as string) };
  }
  return undefined;
}

export interface EbsRequest {
  readonly route: EbsRoute;
  readonly header: (name: string) => string | undefined;
  readonly body: Buffer;
}

export interface EbsContext {
  readonly state: Ec2State;
  readonly now: number;
  readonly faults: FaultPlan;
}

export interface EbsResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** JSON, or the raw bytes of a block (GetSnapshotBlock's payload). */
  readonly body: Record<string, unknown> | Buffer;
}

/** What the fake records about an EBS call in `Ec2Fake.calls` (never the block bytes). */
export function ebsCallParams(request: Omit<EbsRequest, "body">, body: Buffer | undefined): Record<string, unknown> {
  const { route, header } = request;
  switch (route.action) {
    case "StartSnapshot":
      return body === undefined ? {} : parseJsonObject(body);
    case "PutSnapshotBlock":
      return {
        SnapshotId: route.snapshotId,
        BlockIndex: route.blockIndex,
        DataLength: header("x-amz-data-length"),
        Checksum: header("x-amz-checksum"),
        ChecksumAlgorithm: header("x-amz-checksum-algorithm"),
        Progress: header("x-amz-progress"),
      };
    case "CompleteSnapshot":
      return {
        SnapshotId: route.snapshotId,
        ChangedBlocksCount: header("x-amz-changedblockscount"),
        Checksum: header("x-amz-checksum"),
        ChecksumAlgorithm: header("x-amz-checksum-algorithm"),
        ChecksumAggregationMethod: header("x-amz-checksum-aggregation-method"),
      };
    case "ListSnapshotBlocks":
      return { SnapshotId: route.snapshotId, ...Object.fromEntries(route.query) };
    case "GetSnapshotBlock":
      return { SnapshotId: route.snapshotId, BlockIndex: route.blockIndex, BlockToken: route.query.get("blockToken") ?? undefined };
  }
}

function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new EbsApiError("ValidationException", "The request body is not valid JSON", "INVALID_PARAMETER_VALUE");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new EbsApiError("ValidationException", "The request body must be a JSON object", "INVALID_PARAMETER_VALUE");
  }
  return parsed as Record<string, unknown>;
}

function invalid(message: string, reason = "INVALID_PARAMETER_VALUE"): EbsApiError {
  return new EbsApiError("ValidationException", message, reason);
}

function startSnapshotResponse(snapshot: Snapshot): EbsResponse {
  return {
    status: 201,
    headers: {},
    body: {
      Description: snapshot.description,
      SnapshotId: snapshot.snapshotId,
      OwnerId: ACCOUNT_ID,
      Status: snapshot.state,
      // REST-JSON timestamps are epoch seconds by default.
      StartTime: snapshot.startTime.getTime() / 1000,
      VolumeSize: snapshot.volumeSizeGiB,
      BlockSize: EBS_BLOCK_SIZE,
      Tags: [...snapshot.tags].map(([Key, Value]) => ({ Key, Value })),
    },
  };
}

function readTags(value: unknown): Array<[string, string]> {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid("Tags must be a list of {Key, Value}", "INVALID_TAG");
  return value.map((tag: unknown) => {
    const { Key, Value } = (tag ?? {}) as { Key?: unknown; Value?: unknown };
    if (typeof Key !== "string" || Key === "" || (Value !== undefined && typeof Value !== "string")) {
      throw invalid("Each tag needs a string Key and a string Value", "INVALID_TAG");
    }
    return [Key, Value ?? ""];
  });
}

function startSnapshot(request: EbsRequest, context: EbsContext): EbsResponse {
  const input = parseJsonObject(request.body);
  const { VolumeSize, ClientToken, Description, Timeout, ParentSnapshotId, Encrypted } = input;
  const requestFingerprint = fingerprint({ ...input, ClientToken: undefined });
  if (typeof ClientToken === "string") {
    const previous = [...context.state.snapshots.values()].find((snapshot) => snapshot.ebs?.clientToken === ClientToken);
    if (previous !== undefined) {
      if (previous.ebs?.requestFingerprint !== requestFingerprint) {
        throw new EbsApiError("ConflictException", `The client token '${ClientToken}' was already used for a different StartSnapshot request`);
      }
      return startSnapshotResponse(previous);
    }
  }
  if (typeof VolumeSize !== "number" || !Number.isInteger(VolumeSize) || VolumeSize < 1 || VolumeSize > 65_536) {
    throw invalid(`VolumeSize must be an integer number of GiB from 1 to 65536, got ${JSON.stringify(VolumeSize)}`, "INVALID_VOLUME_SIZE");
  }
  if (ParentSnapshotId !== undefined) throw invalid("This fake starts full snapshots only; ParentSnapshotId is not supported", "INVALID_SNAPSHOT_ID");
  if (Encrypted === true) throw invalid("This fake does not encrypt snapshots; leave Encrypted unset", "INVALID_CUSTOMER_KEY");
  if (Description !== undefined && typeof Description !== "string") throw invalid("Description must be a string");
  const timeoutMinutes = Timeout === undefined ? 60 : Timeout;
  if (typeof timeoutMinutes !== "number" || !Number.isInteger(timeoutMinutes) || timeoutMinutes < 10 || timeoutMinutes > 4320) {
    throw invalid(`Timeout must be whole minutes from 10 to 4320, got ${JSON.stringify(Timeout)}`);
  }
  const snapshotId = newId("snap");
  const snapshot: Snapshot = {
    snapshotId,
    origin: "ebs-direct",
    volumeSizeGiB: VolumeSize,
    description: Description,
    startTime: new Date(context.now),
    state: "pending",
    stateMessage: undefined,
    tags: new Map(readTags(input.Tags)),
    ebs: {
      clientToken: typeof ClientToken === "string" ? ClientToken : undefined,
      requestFingerprint,
      timeoutMinutes,
      writableAt: context.now + context.faults.blockWriteRejectionMs,
      blocks: new Map(),
      digests: new Map(),
      completionRequestedAt: undefined,
    },
    importedBlocks: undefined,
  };
  context.state.snapshots.set(snapshotId, snapshot);
  return startSnapshotResponse(snapshot);
}

/** A snapshot that still takes writes; anything else is the error AWS gives for it. */
function writableSnapshot(context: EbsContext, snapshotId: string | undefined): Snapshot & { ebs: NonNullable<Snapshot["ebs"]> } {
  const snapshot = snapshotId === undefined ? undefined : context.state.snapshots.get(snapshotId);
  if (snapshot === undefined || snapshot.ebs === undefined) {
    throw new EbsApiError("ResourceNotFoundException", `The snapshot '${snapshotId}' does not exist.`, "SNAPSHOT_NOT_FOUND");
  }
  if (snapshot.state !== "pending" || snapshot.ebs.completionRequestedAt !== undefined) {
    throw invalid(`The snapshot '${snapshotId}' is ${snapshot.ebs.completionRequestedAt === undefined ? snapshot.state : "being completed"} and takes no more writes`, "INVALID_SNAPSHOT_ID");
  }
  return snapshot as Snapshot & { ebs: NonNullable<Snapshot["ebs"]> };
}

function putSnapshotBlock(request: EbsRequest, context: EbsContext): EbsResponse {
  const { route, header, body } = request;
  const snapshot = writableSnapshot(context, route.snapshotId);
  if (context.now < snapshot.ebs.writableAt) {
    // What AWS answers for a while after StartSnapshot: the block service does not know the snapshot yet.
    throw new EbsApiError("ResourceNotFoundException", `The snapshot '${snapshot.snapshotId}' does not exist.`, "SNAPSHOT_NOT_FOUND");
  }
  const blockIndex = route.blockIndex;
  const blockCount = (snapshot.volumeSizeGiB * 2 ** 30) / EBS_BLOCK_SIZE;
  if (blockIndex === undefined || !Number.isInteger(blockIndex) || blockIndex < 0 || blockIndex >= blockCount) {
    throw invalid(`Block index ${String(blockIndex)} is outside the volume (0 to ${blockCount - 1})`, "INVALID_BLOCK");
  }
  const dataLength = header("x-amz-data-length");
  if (dataLength !== String(EBS_BLOCK_SIZE)) {
    throw invalid(`x-amz-Data-Length must be ${EBS_BLOCK_SIZE}, got ${String(dataLength)}`);
  }
  if (body.length !== EBS_BLOCK_SIZE) {
    throw invalid(`The block data is ${body.length} bytes; x-amz-Data-Length says ${EBS_BLOCK_SIZE}`, "INVALID_BLOCK");
  }
  if (header("x-amz-checksum-algorithm") !== "SHA256") {
    throw invalid(`x-amz-Checksum-Algorithm must be SHA256, got ${String(header("x-amz-checksum-algorithm"))}`);
  }
  const digest = createHash("sha256").update(body).digest();
  const checksum = digest.toString("base64");
  if (header("x-amz-checksum") !== checksum) {
    throw invalid(`The x-amz-Checksum ${String(header("x-amz-checksum"))} does not match the SHA-256 of the block data (${checksum})`, "INVALID_BLOCK");
  }
  // The body is this request's own buffer (readBody concatenates into a new one): no copy needed.
  snapshot.ebs.blocks.set(blockIndex, body);
  snapshot.ebs.digests.set(blockIndex, digest);
  return { status: 201, headers: { "x-amz-Checksum": checksum, "x-amz-Checksum-Algorithm": "SHA256" }, body: {} };
}

/** LINEAR aggregation: SHA-256 over the binary block digests in ascending block index, base64. */
export function linearAggregate(digests: ReadonlyMap<number, Buffer>): string {
  const hash = createHash("sha256");
  for (const index of [...digests.keys()].sort((a, b) => a - b)) hash.update(digests.get(index) as Buffer);
  return hash.digest("base64");
}

function completeSnapshot(request: EbsRequest, context: EbsContext): EbsResponse {
  const { route, header } = request;
  const snapshot = writableSnapshot(context, route.snapshotId);
  const count = header("x-amz-changedblockscount");
  if (count === undefined || !/^[0-9]+$/.test(count)) {
    throw invalid(`x-amz-ChangedBlocksCount must be the number of blocks written, got ${String(count)}`);
  }
  if (Number(count) !== snapshot.ebs.blocks.size) {
    throw invalid(`x-amz-ChangedBlocksCount is ${count} but ${snapshot.ebs.blocks.size} blocks were written to ${snapshot.snapshotId}`, "INVALID_BLOCK");
  }
  const checksum = header("x-amz-checksum");
  if (checksum !== undefined) {
    if (header("x-amz-checksum-algorithm") !== "SHA256") throw invalid("x-amz-Checksum-Algorithm must be SHA256");
    if (header("x-amz-checksum-aggregation-method") !== "LINEAR") throw invalid("x-amz-Checksum-Aggregation-Method must be LINEAR");
    const expected = linearAggregate(snapshot.ebs.digests);
    if (checksum !== expected) {
      throw invalid(`The aggregate checksum ${checksum} does not match the blocks written (${expected}): SHA-256 over the binary block digests in block order, base64`, "INVALID_BLOCK");
    }
  }
  snapshot.ebs.completionRequestedAt = context.now;
  return { status: 202, headers: {}, body: { Status: "pending" } };
}

// ---------- reading a snapshot back ----------

/** How long a block token stays valid (AWS: about 7 days; only reported, not enforced here). */
const BLOCK_TOKEN_LIFETIME_MS = 7 * 24 * 3600 * 1000;

/** A completed snapshot with readable blocks: EBS direct's, or VM Import's of a RAW object. */
function readableSnapshot(context: EbsContext, snapshotId: string | undefined): { snapshot: Snapshot; blocks: ReadonlyMap<number, Buffer> } {
  const snapshot = snapshotId === undefined ? undefined : context.state.snapshots.get(snapshotId);
  if (snapshot === undefined) throw new EbsApiError("ResourceNotFoundException", `The snapshot '${snapshotId}' does not exist.`, "SNAPSHOT_NOT_FOUND");
  if (snapshot.state !== "completed") throw invalid(`The snapshot '${snapshot.snapshotId}' is ${snapshot.state}; only a completed snapshot can be read`, "INVALID_SNAPSHOT_ID");
  const blocks = snapshot.ebs?.blocks ?? snapshot.importedBlocks;
  if (blocks === undefined) throw invalid(`This fake holds no data for '${snapshot.snapshotId}' (a VM Import of a VHD or VMDK object)`, "INVALID_SNAPSHOT_ID");
  return { snapshot, blocks };
}

/** Opaque to clients; here it binds the snapshot and the index, as AWS's does. */
function blockToken(snapshotId: string, index: number): string {
  return Buffer.from(`fake-ebs:${snapshotId}:${index}`).toString("base64");
}

function integerQuery(query: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const text = query.get(name);
  if (text === null) return undefined;
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) throw invalid(`${name} must be an integer from ${min} to ${max}, got '${text}'`);
  return Number(text);
}

/** ListSnapshotBlocks: the written (non-zero) blocks in index order, pages of `maxResults` (100–10000). */
function listSnapshotBlocks(request: EbsRequest, context: EbsContext): EbsResponse {
  const { snapshot, blocks } = readableSnapshot(context, request.route.snapshotId);
  const query = request.route.query;
  const maxResults = integerQuery(query, "maxResults", 100, 10_000) ?? 10_000;
  const pageToken = query.get("pageToken");
  let start = integerQuery(query, "startingBlockIndex", 0, Number.MAX_SAFE_INTEGER) ?? 0;
  if (pageToken !== null) {
    const decoded = /^fake-page:([^:]+):([0-9]+)$/.exec(Buffer.from(pageToken, "base64").toString("utf8"));
    if (decoded === null || decoded[1] !== snapshot.snapshotId) throw invalid(`The page token '${pageToken}' is not valid for ${snapshot.snapshotId}`, "INVALID_PAGE_TOKEN");
    start = Number(decoded[2]);
  }
  const indexes = [...blocks.keys()].filter((index) => index >= start).sort((a, b) => a - b);
  const page = indexes.slice(0, maxResults);
  const next = indexes[maxResults];
  return {
    status: 200,
    headers: {},
    body: {
      Blocks: page.map((index) => ({ BlockIndex: index, BlockToken: blockToken(snapshot.snapshotId, index) })),
      ExpiryTime: (context.now + BLOCK_TOKEN_LIFETIME_MS) / 1000,
      VolumeSize: snapshot.volumeSizeGiB,
      BlockSize: EBS_BLOCK_SIZE,
      ...(next === undefined ? {} : { NextToken: Buffer.from(`fake-page:${snapshot.snapshotId}:${next}`).toString("base64") }),
    },
  };
}

/** GetSnapshotBlock: the block's bytes, with its length and SHA-256 in headers. */
function getSnapshotBlock(request: EbsRequest, context: EbsContext): EbsResponse {
  const { snapshot, blocks } = readableSnapshot(context, request.route.snapshotId);
  const index = request.route.blockIndex;
  const token = request.route.query.get("blockToken");
  if (token === null || token === "") throw invalid("The request must contain the parameter blockToken", "INVALID_BLOCK_TOKEN");
  if (index === undefined || !Number.isInteger(index) || token !== blockToken(snapshot.snapshotId, index)) {
    throw invalid(`The block token is not valid for block ${String(index)} of ${snapshot.snapshotId}`, "INVALID_BLOCK_TOKEN");
  }
  const data = blocks.get(index);
  if (data === undefined) throw invalid(`Block ${index} of ${snapshot.snapshotId} holds no data (it reads as zeros)`, "INVALID_BLOCK");
  return {
    status: 200,
    headers: {
      "content-type": "application/octet-stream",
      "x-amz-Data-Length": String(data.length),
      "x-amz-Checksum": createHash("sha256").update(data).digest("base64"),
      "x-amz-Checksum-Algorithm": "SHA256",
    },
    body: data,
  };
}

export function handleEbs(request: EbsRequest, context: EbsContext): EbsResponse {
  switch (request.route.action) {
    case "ListSnapshotBlocks":
      return listSnapshotBlocks(request, context);
    case "GetSnapshotBlock":
      return getSnapshotBlock(request, context);
    case "StartSnapshot":
      return startSnapshot(request, context);
    case "PutSnapshotBlock":
      return putSnapshotBlock(request, context);
    case "CompleteSnapshot":
      return completeSnapshot(request, context);
  }
}
