// s3rver (a real S3 emulator) on 127.0.0.1 with a fresh folder, for tests that drive the real AWS SDK.
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer: Server;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

export interface LocalS3 {
  readonly endpoint: string;
  /** Environment for a child process using the SDK's default credential chain against it. */
  readonly env: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

export async function startS3(buckets: readonly string[]): Promise<LocalS3> {
  const S3rver = createRequire(import.meta.url)("s3rver") as S3rverClass;
  const directory = await mkdtemp(path.join(tmpdir(), "clawdinator-s3rver-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    env: { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "eu-central-1", AWS_PROFILE: "", AWS_ENDPOINT_URL_S3: endpoint },
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
