// s3rver, a real S3 emulator, on 127.0.0.1 for the tests that drive the AWS SDK's S3 client: it
// records every request, so a test can count what a client sent.
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";

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
  server.httpServer.prependListener("request", (request) => {
    requests.push({ method: request.method ?? "", url: request.url ?? "", bytes: Number(request.headers["content-length"] ?? 0) });
  });
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    requests,
    uploads: () => requests.filter((request) => request.method === "PUT" || (request.method === "POST" && request.url.includes("uploads"))),
    close: async () => {
      server.httpServer.closeAllConnections();
      await server.close();
    },
  };
}

