// The multipart upload survives a connection reset in the middle of a part (the SDK retries the
// part), stores the image byte for byte, and is skipped when the object already has the SHA-256.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, request as httpRequest, type Server } from "node:http";
import { writeFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { createClients, destroyClients, sha256File, silentReporter, uploadImage, type AwsClients } from "../../providers/nixos-ami/steps.ts";
import { BUCKET, REGION, startWorld, type World } from "./harness.ts";

interface ResettingProxy {
  readonly endpoint: string;
  readonly resets: string[];
  /** The next request whose URL matches `pattern` loses its connection after part of its body. */
  resetNext(pattern: RegExp): void;
  close(): Promise<void>;
}

/** An HTTP proxy in front of s3rver that can drop a connection mid-request. */
async function resettingProxy(target: string): Promise<ResettingProxy> {
  const upstream = new URL(target);
  const resets: string[] = [];
  let armed: RegExp | undefined;
  const server: Server = createServer((incoming, outgoing) => {
    if (armed?.test(incoming.url ?? "")) {
      armed = undefined;
      resets.push(`${incoming.method} ${incoming.url}`);
      incoming.once("data", () => incoming.socket.destroy());
      return;
    }
    const forwarded = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    forwarded.on("error", () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    resets,
    resetNext: (pattern) => void (armed = pattern),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("multipart upload", () => {
  let world: World;
  let proxy: ResettingProxy;
  let clients: AwsClients;
  let imagePath: string;
  let sha256: string;
  before(async () => {
    world = await startWorld({ seed: "upload" });
    proxy = await resettingProxy(world.s3.endpoint);
    clients = createClients(REGION, { s3: proxy.endpoint });
    imagePath = `${world.dir}/image.raw`;
    // 12 MiB of varied bytes: three 5 MiB parts at the minimum part size.
    // Byte i is (i * 7919) % 251, which repeats every 251 bytes: one period filled over the whole
    // (a callback per byte cost about a second of CPU).
    const period = Buffer.from(Array.from({ length: 251 }, (_, i) => (i * 7919) % 251));
    await writeFile(imagePath, Buffer.alloc(12 * 2 ** 20, period));
    sha256 = await sha256File(imagePath);
  });
  after(async () => {
    destroyClients(clients);
    await proxy.close();
    await world.close();
  });

  const request = () => ({ bucket: BUCKET, key: "images/upload.raw", filePath: imagePath, sizeBytes: 12 * 2 ** 20, sha256, identity: `sha256:${sha256}`, partSizeMiB: 5, queueSize: 3 });

  it("retries a part whose connection was reset mid-body, and the object is intact", async () => {
    proxy.resetNext(/partNumber=2/);
    const result = await uploadImage(clients.s3, request(), silentReporter);
    assert.equal(result.uploaded, true);
    assert.equal(proxy.resets.length, 1, "the reset happened");
    const parts = world.s3.requests.filter((r) => r.method === "PUT" && r.url.includes("partNumber="));
    assert.equal(parts.length, 3, "three parts reached S3 (the reset one retried)");
    const object = await clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "images/upload.raw" }));
    const stored = createHash("sha256");
    for await (const chunk of object.Body as AsyncIterable<Uint8Array>) stored.update(chunk);
    assert.equal(stored.digest("hex"), sha256);
  });

  it("is skipped when the object already carries the same SHA-256", async () => {
    const before = world.s3.uploads().length;
    const result = await uploadImage(clients.s3, request(), silentReporter);
    assert.equal(result.uploaded, false);
    assert.equal(world.s3.uploads().length, before);
  });

  it("uploads again when the object holds another image", async () => {
    const result = await uploadImage(clients.s3, { ...request(), sha256: "0".repeat(64) }, silentReporter);
    assert.equal(result.uploaded, true);
  });
});
