/**
 * A local EC2 (Query protocol) + EBS direct (REST-JSON) server for the image pipeline's tests. One
 * HTTP server answers both: a form POST with `Action=` is EC2, a `/snapshots...` path is EBS direct.
 * Point both SDK clients (and `aws --endpoint-url`) at `endpoint`, with any credentials.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { EC2_ACTIONS, type S3ObjectCheck } from "./ec2-actions.ts";
import { ebsCallParams, handleEbs, matchEbsRoute, type EbsRequest, type EbsRoute } from "./ebs.ts";
import { EbsApiError, Ec2ApiError, invalidParameterValue } from "./errors.ts";
import { FaultPlan, type Faults } from "./faults.ts";
import { parseQuery, QueryParseError, QueryReader, type QueryStruct } from "./query.ts";
import { advance, newState, nonZeroBlocks, type Ec2State } from "./state.ts";
import { xmlDocument } from "./xml.ts";

export type { Faults } from "./faults.ts";
export type {
  BlockDeviceMapping,
  Ec2State,
  EbsDirectUpload,
  Image,
  ImageState,
  ImportTask,
  ImportTaskStatus,
  Snapshot,
  SnapshotState,
  Tags,
} from "./state.ts";
export { ACCOUNT_ID, EBS_BLOCK_SIZE } from "./state.ts";
export { linearAggregate } from "./ebs.ts";

export const EC2_NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/";

export interface Ec2FakeOptions {
  /** When set, ImportSnapshot HEADs `${s3Endpoint}/${bucket}/${key}` and fails the task if it is missing. */
  s3Endpoint?: string;
  /** Time from ImportSnapshot to `completed` (active "pending" → active with Progress → completed). */
  importDurationMs?: number;
  /** How long an EBS-direct snapshot stays `pending` after CompleteSnapshot (AWS: seconds to minutes). */
  snapshotCompletionMs?: number;
  /** How long a registered AMI stays `pending` before `available` (AWS: seconds to minutes). */
  imageAvailableMs?: number;
  region?: string;
  /** The fake's clock (ms). Tests that step through the import timeline pass their own. */
  clock?: () => number;
}

const DEFAULTS = {
  importDurationMs: 300,
  snapshotCompletionMs: 50,
  imageAvailableMs: 0,
  region: "us-east-1",
  clock: Date.now,
} as const satisfies Required<Omit<Ec2FakeOptions, "s3Endpoint">>;

export interface Ec2Call {
  readonly service: "ec2" | "ebs";
  readonly action: string;
  readonly params: Record<string, unknown>;
  readonly at: number;
  /** Set when a fault answered this request instead of the API. */
  readonly fault?: "throttle" | "reset" | "not-found";
}

export interface Ec2Fake {
  readonly endpoint: string;
  readonly region: string;
  /** Every request received, in order, including ones a fault answered. */
  readonly calls: ReadonlyArray<Ec2Call>;
  count(action: string): number;
  /** Live state; it moves forward (tasks progress, snapshots settle) whenever the fake gets a request. */
  readonly state: Ec2State;
  readonly faults: Faults;
  /** The blocks EBS direct accepted for a snapshot, by block index (a copy). */
  blocks(snapshotId: string): Map<number, Buffer>;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  const payload = Buffer.from(body, "utf8");
  response.writeHead(status, { "content-type": contentType, "content-length": String(payload.length), ...headers });
  response.end(payload);
}

function sendEc2Error(response: ServerResponse, error: Ec2ApiError, requestId: string): void {
  const body = xmlDocument("Response", undefined, {
    Errors: { Error: { Code: error.code, Message: error.message } },
    RequestID: requestId,
  });
  send(response, error.status, "text/xml;charset=UTF-8", body, { "x-amzn-RequestId": requestId });
}

function sendEbsError(response: ServerResponse, error: EbsApiError, requestId: string): void {
  send(response, error.status, "application/json", JSON.stringify({ Message: error.message, Reason: error.reason }), {
    "x-amzn-ErrorType": error.type,
    "x-amzn-RequestId": requestId,
  });
}

/** The first id a request names, for the eventual-consistency fault. */
function firstResourceId(params: QueryStruct): string | undefined {
  for (const name of ["SnapshotId", "ImageId", "ResourceId"]) {
    const value = params[name];
    if (Array.isArray(value) && typeof value[0] === "string") return value[0];
    if (typeof value === "string") return value;
  }
  return undefined;
}

/** The NotFound EC2 gives for an id it does not know (yet). */
function notFoundError(id: string): Ec2ApiError {
  if (id.startsWith("snap-")) return new Ec2ApiError("InvalidSnapshot.NotFound", `The snapshot '${id}' does not exist.`);
  if (id.startsWith("ami-")) return new Ec2ApiError("InvalidAMIID.NotFound", `The image id '[${id}]' does not exist`);
  return new Ec2ApiError("InvalidID", `The ID '${id}' is not valid`);
}

function s3ObjectChecker(s3Endpoint: string): (bucket: string, key: string, read: boolean) => Promise<S3ObjectCheck> {
  const base = s3Endpoint.replace(/\/+$/, "");
  return async (bucket, key, read) => {
    const url = `${base}/${encodeURIComponent(bucket)}/${key.split("/").map(encodeURIComponent).join("/")}`;
    const response = await fetch(url, { method: read ? "GET" : "HEAD" });
    if (response.ok) {
      if (read && response.body !== null) return { exists: true, ...(await nonZeroBlocks(response.body)) };
      await response.body?.cancel();
      return { exists: true, size: Number(response.headers.get("content-length") ?? 0), blocks: undefined };
    }
    await response.body?.cancel();
    return {
      exists: false,
      detail: response.status === 404 ? "The specified bucket or key does not exist" : `S3 answered HTTP ${response.status}`,
    };
  };
}

export async function startEc2Fake(options: Ec2FakeOptions = {}): Promise<Ec2Fake> {
  const importDurationMs = options.importDurationMs ?? DEFAULTS.importDurationMs;
  const snapshotCompletionMs = options.snapshotCompletionMs ?? DEFAULTS.snapshotCompletionMs;
  const imageAvailableMs = options.imageAvailableMs ?? DEFAULTS.imageAvailableMs;
  const region = options.region ?? DEFAULTS.region;
  const clock = options.clock ?? DEFAULTS.clock;
  for (const [name, value] of Object.entries({ importDurationMs, snapshotCompletionMs, imageAvailableMs })) {
    if (!(value >= 0)) throw new RangeError(`startEc2Fake: ${name} must be >= 0, got ${value}`);
  }
  const headS3Object = options.s3Endpoint === undefined ? undefined : s3ObjectChecker(options.s3Endpoint);
  const state = newState();
  const faults = new FaultPlan();
  const calls: Ec2Call[] = [];

  const record = (call: Omit<Ec2Call, "at">): void => {
    calls.push({ ...call, at: clock() });
  };

  async function handleEc2(request: IncomingMessage, response: ServerResponse, requestId: string): Promise<void> {
    let params: QueryStruct;
    try {
      params = parseQuery((await readBody(request)).toString("utf8"));
    } catch (error) {
      if (!(error instanceof QueryParseError)) throw error;
      sendEc2Error(response, invalidParameterValue(error.message), requestId);
      return;
    }
    const { Action: action, Version: _version, ...actionParams } = params;
    if (typeof action !== "string" || action === "") {
      sendEc2Error(response, new Ec2ApiError("MissingAction", "The request must contain the parameter Action"), requestId);
      return;
    }
    if (faults.takeReset(action)) {
      record({ service: "ec2", action, params: actionParams, fault: "reset" });
      request.socket.destroy();
      return;
    }
    if (faults.takeThrottle(action)) {
      record({ service: "ec2", action, params: actionParams, fault: "throttle" });
      sendEc2Error(response, new Ec2ApiError("RequestLimitExceeded", "Request limit exceeded.", 503), requestId);
      return;
    }
    const hidden = firstResourceId(actionParams);
    if (hidden !== undefined && faults.takeNotFound(action)) {
      record({ service: "ec2", action, params: actionParams, fault: "not-found" });
      sendEc2Error(response, notFoundError(hidden), requestId);
      return;
    }
    await faults.passBarrier(action);
    record({ service: "ec2", action, params: actionParams });
    const handler = EC2_ACTIONS[action];
    if (handler === undefined) {
      sendEc2Error(response, new Ec2ApiError("InvalidAction", `The action ${action} is not valid for this web service.`), requestId);
      return;
    }
    if (actionParams.DryRun === "true") {
      sendEc2Error(response, new Ec2ApiError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412), requestId);
      return;
    }
    const now = clock();
    advance(state, now, { snapshotCompletionMs });
    try {
      const reader = new QueryReader(actionParams, invalidParameterValue);
      const result = await handler(reader, { state, now, faults, importDurationMs, imageAvailableMs, headS3Object });
      send(response, 200, "text/xml;charset=UTF-8", xmlDocument(`${action}Response`, EC2_NAMESPACE, { requestId, ...result }), {
        "x-amzn-RequestId": requestId,
      });
    } catch (error) {
      if (!(error instanceof Ec2ApiError)) throw error;
      sendEc2Error(response, error, requestId);
    }
  }

  async function handleEbsRequest(request: IncomingMessage, response: ServerResponse, route: EbsRoute, requestId: string): Promise<void> {
    const header = (name: string): string | undefined => {
      const value = request.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(",") : value;
    };
    if (faults.takeReset(route.action)) {
      record({ service: "ebs", action: route.action, params: ebsCallParams({ route, header }, undefined), fault: "reset" });
      // Mid-request: let the first body bytes arrive (a block upload under way), then drop the socket.
      const destroy = (): void => {
        request.socket.destroy();
      };
      if (request.readableEnded) destroy();
      else {
        request.once("data", destroy);
        request.once("end", destroy);
      }
      return;
    }
    const body = await readBody(request);
    let callParams: Record<string, unknown>;
    try {
      callParams = ebsCallParams({ route, header }, body);
    } catch (error) {
      callParams = {};
      if (!(error instanceof EbsApiError)) throw error;
    }
    if (faults.takeThrottle(route.action)) {
      record({ service: "ebs", action: route.action, params: callParams, fault: "throttle" });
      sendEbsError(response, new EbsApiError("RequestThrottledException", "Rate exceeded", "ACCOUNT_THROTTLED"), requestId);
      return;
    }
    await faults.passBarrier(route.action);
    record({ service: "ebs", action: route.action, params: callParams });
    const now = clock();
    advance(state, now, { snapshotCompletionMs });
    try {
      const ebsRequest: EbsRequest = { route, header, body };
      const result = handleEbs(ebsRequest, { state, now, faults });
      if (Buffer.isBuffer(result.body)) {
        response.writeHead(result.status, { "content-length": String(result.body.length), ...result.headers, "x-amzn-RequestId": requestId });
        response.end(result.body);
      } else send(response, result.status, "application/json", JSON.stringify(result.body), { ...result.headers, "x-amzn-RequestId": requestId });
    } catch (error) {
      if (!(error instanceof EbsApiError)) throw error;
      sendEbsError(response, error, requestId);
    }
  }

  const server = createServer((request, response) => {
    const requestId = randomUUID();
    const url = new URL(request.url ?? "/", "http://fake");
    const path = url.pathname;
    const route = matchEbsRoute(request.method ?? "GET", url);
    const handled =
      route !== undefined
        ? handleEbsRequest(request, response, route, requestId)
        : request.method === "POST" && path === "/"
          ? handleEc2(request, response, requestId)
          : // Off every route: answer as EBS direct's REST front does, in its JSON error shape.
            Promise.resolve(
              sendEbsError(
                response,
                new EbsApiError("ResourceNotFoundException", `No EC2 or EBS direct API at ${request.method} ${path}`, "DEPENDENCY_RESOURCE_NOT_FOUND"),
                requestId,
              ),
            );
    handled.catch((error: unknown) => {
      // A bug in the fake: answer 500 so the client test fails loudly instead of hanging.
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      if (!response.headersSent) send(response, 500, "text/plain", `ec2 fake internal error: ${message}\n`);
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    region,
    calls,
    count: (action) => calls.filter((call) => call.action === action).length,
    state,
    faults,
    blocks(snapshotId) {
      const snapshot = state.snapshots.get(snapshotId);
      return new Map(snapshot?.ebs?.blocks ?? []);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}
