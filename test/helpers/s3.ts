// s3rver, a real S3 emulator, on 127.0.0.1 for the tests that drive the AWS SDK's S3 client: it
// records every request, so a test can count what a client sent.
import { createHash, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
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
  store: S3rverStore;
}

/** s3rver's FilesystemStore, the part consistentWrites replaces and the helpers it uses. */
interface S3rverStore {
  putObject(object: { bucket: string; key: string; content: Buffer | AsyncIterable<Buffer>; metadata: Record<string, string> }): Promise<{ size: number; md5: string }>;
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
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
  consistentWrites(server.store);
  const address = await server.run();
  const requests: S3Request[] = [];
  server.httpServer.prependListener("request", (request) => requests.push(recorded(request)));
  return fake(address.port, requests, async () => {
    server.httpServer.closeAllConnections();
    await server.close();
  });
}

/**
 * S3 is read-after-write consistent: once a PUT (or CompleteMultipartUpload) is answered, every GET
 * returns the new object. s3rver 3.7 answers when it has read the body, not when it has written it
 * (its write stream is still flushing, and opening it emptied the old file first), so under load a
 * GET right after read a short or empty object. Here the object is written to a temporary file and
 * renamed into place before the answer, as s3rver's own putObject would with the file closed.
 */
function consistentWrites(store: S3rverStore): void {
  store.putObject = async (object) => {
    const objectPath = store.getResourcePath(object.bucket, object.key, "object");
    const chunks: Buffer[] = [];
    if (Buffer.isBuffer(object.content)) chunks.push(object.content);
    else for await (const chunk of object.content) chunks.push(chunk);
    const content = Buffer.concat(chunks);
    await mkdir(path.dirname(objectPath), { recursive: true });
    // Not named *._S3rver_object, so a listing never shows it half written.
    const partial = `${objectPath}.${randomUUID()}.partial`;
    await writeFile(partial, content);
    await rename(partial, objectPath);
    const md5 = createHash("md5").update(content).digest("hex");
    await store.putMetadata(object.bucket, object.key, object.metadata, md5);
    return { size: content.length, md5 };
  };
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
