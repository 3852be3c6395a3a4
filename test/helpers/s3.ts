// s3rver, a real S3 emulator, on 127.0.0.1 for the tests that drive the AWS SDK's S3 client: it
// records every request, so a test can count what a client sent.
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

/** The part of s3rver's API used here (the package ships no types). */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer: Server;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

export interface S3Request {
  readonly method: string;
  readonly url: string;
  readonly bytes: number;
}

export interface S3Fake {
  readonly endpoint: string;
  /** Environment for a child process using the SDK's default credential chain against it. */
  readonly env: Readonly<Record<string, string>>;
  readonly requests: S3Request[];
  /** Requests that write object data (PutObject, UploadPart, CreateMultipartUpload). */
  uploads(): S3Request[];
  close(): Promise<void>;
}

export async function startS3(directory: string, buckets: readonly string[]): Promise<S3Fake> {
  const S3rver = createRequire(import.meta.url)("s3rver") as S3rverClass;
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  const address = await server.run();
  const requests: S3Request[] = [];
  server.httpServer.prependListener("request", (request) => requests.push(recorded(request)));
  return fake(address.port, requests, async () => {
    server.httpServer.closeAllConnections();
    await server.close();
  });
}

function recorded(request: IncomingMessage): S3Request {
  return { method: request.method ?? "", url: request.url ?? "", bytes: Number(request.headers["content-length"] ?? 0) };
}

/** The S3Fake a test sees, for a server on 127.0.0.1:`port` that records into `requests`. */
function fake(port: number, requests: S3Request[], close: () => Promise<void>): S3Fake {
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    env: { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "eu-central-1", AWS_PROFILE: "", AWS_ENDPOINT_URL_S3: endpoint },
    requests,
    uploads: () => requests.filter((request) => request.method === "PUT" || (request.method === "POST" && request.url.includes("uploads"))),
    close,
  };
}


/** s3rver in a fresh temporary folder of its own, removed on close. */
export async function startTempS3(buckets: readonly string[]): Promise<S3Fake> {
  const directory = await mkdtemp(path.join(tmpdir(), "clawdinator-s3rver-"));
  const s3 = await startS3(directory, buckets);
  return {
    ...s3,
    close: async () => {
      await s3.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * An S3 endpoint for tests that must never reach S3: it records every request like startS3 and
 * refuses each with AccessDenied (not retried by the SDK), so a stray S3 call fails the test. Costs
 * nothing to start, where s3rver costs ~0.35 s of CPU to load and start.
 */
export async function startRefusingS3(): Promise<S3Fake> {
  const requests: S3Request[] = [];
  const server = createServer((request, response) => {
    requests.push(recorded(request));
    request.resume();
    const body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>this test has no S3</Message></Error>';
    response.writeHead(403, { "content-type": "application/xml", "content-length": String(Buffer.byteLength(body)) });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return fake(port, requests, async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((error) => (error === undefined ? resolve() : reject(error))));
  });
}
