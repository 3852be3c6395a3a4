// bench/image: the image pipeline against the local fakes (s3rver, the EC2/EBS fake), one run:
//  (1) a no-op rerun (same identity): requests, bytes on the wire, seconds;
//  (2) ebs-direct on a sparse 256 MiB image holding 16 MiB: bytes sent / non-zero bytes (goal
//      ≤ 1.05) and MB/s beside the time to just read the file;
//  (3) multipart upload of the same image to S3: MB/s beside the same read.
// Byte counts come from TCP proxies in front of the fakes, so they include HTTP framing.
import { createServer, connect, type Server } from "node:net";
import { open } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { nixosAmiProvider } from "../providers/nixos-ami/index.ts";
import { createClients, DEFAULT_TUNING, destroyClients, identityDigest, silentReporter, uploadImage, writeSnapshot, BLOCK_SIZE, sha256File } from "../providers/nixos-ami/steps.ts";
import { startWorld } from "../test/image/harness.ts";

const SIZE_MIB = 256;
const DATA_MIB = 16;
const MiB = 2 ** 20;

interface CountingProxy {
  readonly endpoint: string;
  readonly bytes: { up: number; down: number };
  readonly connections: { count: number };
  close(): Promise<void>;
}

/** Forwards TCP to `target`, counting bytes each way. */
async function countingProxy(target: string): Promise<CountingProxy> {
  const { hostname, port } = new URL(target);
  const bytes = { up: 0, down: 0 };
  const connections = { count: 0 };
  const server: Server = createServer((client) => {
    connections.count++;
    const upstream = connect(Number(port), hostname);
    client.on("data", (chunk: Buffer) => (bytes.up += chunk.length));
    upstream.on("data", (chunk: Buffer) => (bytes.down += chunk.length));
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no port");
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bytes,
    connections,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function timeRead(filePath: string): Promise<number> {
  const started = performance.now();
  const file = await open(filePath, "r");
  const buffer = Buffer.allocUnsafe(16 * BLOCK_SIZE);
  try {
    for (let offset = 0; ; offset += buffer.length) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, offset);
      if (bytesRead === 0) break;
    }
  } finally {
    await file.close();
  }
  return (performance.now() - started) / 1000;
}

async function nonZeroBytes(filePath: string): Promise<number> {
  const file = await open(filePath, "r");
  const block = Buffer.alloc(BLOCK_SIZE);
  const zero = Buffer.alloc(BLOCK_SIZE);
  let total = 0;
  try {
    for (let offset = 0; ; offset += BLOCK_SIZE) {
      const { bytesRead } = await file.read(block, 0, BLOCK_SIZE, offset);
      if (bytesRead === 0) break;
      block.fill(0, bytesRead);
      if (!block.equals(zero)) for (const byte of block.subarray(0, bytesRead)) if (byte !== 0) total++;
    }
  } finally {
    await file.close();
  }
  return total;
}

const fmt = (n: number, digits = 2): string => n.toFixed(digits);
const mbps = (bytes: number, seconds: number): string => `${fmt(bytes / MiB / seconds, 1)} MiB/s`;

const world = await startWorld({ seed: `bench-${Date.now()}`, sizeMiB: SIZE_MIB, dataMiB: DATA_MIB, importDurationMs: 300 });
const ec2Proxy = await countingProxy(world.ec2.endpoint);
const s3Proxy = await countingProxy(world.s3.endpoint);
const endpoints = { s3: s3Proxy.endpoint, ec2: ec2Proxy.endpoint, ebs: ec2Proxy.endpoint };
const consoleLog = console.log;
try {
  // The provider prints progress lines; keep the bench output to the figures.
  console.log = () => undefined;
  const checked = await nixosAmiProvider.check({}, world.inputs({ endpoints, importMethod: "ebs-direct" }));
  await nixosAmiProvider.create(checked.inputs ?? {});

  // (1) no-op rerun
  const before = { ec2: world.ec2.calls.length, s3: world.s3.requests.length, up: ec2Proxy.bytes.up + s3Proxy.bytes.up, down: ec2Proxy.bytes.down + s3Proxy.bytes.down };
  const rerunStarted = performance.now();
  await nixosAmiProvider.create(checked.inputs ?? {});
  const rerunSeconds = (performance.now() - rerunStarted) / 1000;
  const rerunCalls = world.ec2.calls.slice(before.ec2).map((call) => call.action);
  const rerunS3 = world.s3.requests.length - before.s3;
  const rerunBytes = ec2Proxy.bytes.up + s3Proxy.bytes.up - before.up + (ec2Proxy.bytes.down + s3Proxy.bytes.down - before.down);
  console.log = consoleLog;

  const imagePath = await world.builtImagePath();
  const sizeBytes = SIZE_MIB * MiB;
  const dataBytes = await nonZeroBytes(imagePath);
  await timeRead(imagePath); // warm the page cache, so both sides read from memory
  const readSeconds = await timeRead(imagePath);

  // (2) ebs-direct alone, on a fresh identity so nothing is reused
  const clients = createClients(world.ec2.region, endpoints);
  const ebsUp = ec2Proxy.bytes.up;
  const putsBefore = world.ec2.count("PutSnapshotBlock");
  const ebsStarted = performance.now();
  const written = await writeSnapshot(
    clients,
    {
      filePath: imagePath,
      sizeBytes,
      identity: "bench-ebs-direct",
      description: "bench",
      tags: [{ Key: "clawdinator:identity", Value: "bench-ebs-direct" }],
      workers: 16,
      blockAttempts: 10,
      retryBaseMs: 50,
      timeoutMinutes: 10,
      pollInitialMs: 20,
      pollMaxMs: 100,
      policy: { ...DEFAULT_TUNING, retryBaseMs: 50 },
    },
    silentReporter,
  );
  const ebsSeconds = (performance.now() - ebsStarted) / 1000;
  const ebsWireUp = ec2Proxy.bytes.up - ebsUp;
  const blockPayload = (world.ec2.count("PutSnapshotBlock") - putsBefore) * BLOCK_SIZE;

  // (3) multipart upload of the same file (hash first, as the pipeline does)
  const hashStarted = performance.now();
  const sha256 = await sha256File(imagePath);
  const hashSeconds = (performance.now() - hashStarted) / 1000;
  const s3Up = s3Proxy.bytes.up;
  const uploadStarted = performance.now();
  await uploadImage(
    clients.s3,
    { bucket: "clawdinator-images", key: `bench/${identityDigest(sha256)}.raw`, filePath: imagePath, sizeBytes, sha256, identity: `sha256:${sha256}`, partSizeMiB: 16, queueSize: 4 },
    silentReporter,
  );
  const uploadSeconds = (performance.now() - uploadStarted) / 1000;
  const uploadWire = s3Proxy.bytes.up - s3Up;
  destroyClients(clients);

  console.log(`image pipeline bench (node ${process.version}; fakes in this process on 127.0.0.1; ${SIZE_MIB} MiB sparse raw image, ${fmt(dataBytes / MiB, 1)} MiB non-zero)`);
  console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((load) => fmt(load, 1)).join(" ")} (speeds are only comparable within one run)`);
  console.log("(1) no-op rerun, same identity (nix eval is the test double here: a real one adds its evaluation time)");
  console.log(`    EC2 requests: ${rerunCalls.length} (${[...new Set(rerunCalls)].join(", ")}); S3 requests: ${rerunS3}; bytes on the wire: ${rerunBytes}; ${fmt(rerunSeconds, 3)} s`);
  console.log("(2) ebs-direct");
  console.log(`    blocks written: ${written.changedBlocks} of ${written.totalBlocks}; block payload ${fmt(blockPayload / MiB, 1)} MiB; wire (up) ${fmt(ebsWireUp / MiB, 2)} MiB`);
  console.log(`    bytes sent / non-zero bytes: payload ${fmt(blockPayload / dataBytes, 3)}, wire ${fmt(ebsWireUp / dataBytes, 3)} (goal <= 1.05: ${ebsWireUp / dataBytes <= 1.05 ? "met" : "MISSED"})`);
  console.log(`    ${fmt(ebsSeconds, 3)} s = ${mbps(sizeBytes, ebsSeconds)} of image; plain read of the file: ${fmt(readSeconds, 3)} s = ${mbps(sizeBytes, readSeconds)}; ratio ebs-direct/read ${fmt(ebsSeconds / readSeconds, 1)}x`);
  console.log("(3) multipart upload to S3 (s3rver writes to disk)");
  console.log(`    ${fmt(uploadSeconds, 3)} s = ${mbps(sizeBytes, uploadSeconds)}; wire (up) ${fmt(uploadWire / MiB, 1)} MiB; ratio upload/read ${fmt(uploadSeconds / readSeconds, 1)}x; SHA-256 first: ${fmt(hashSeconds, 3)} s`);
  console.log(`    ebs-direct vs vm-import's upload alone: ${fmt(uploadSeconds / ebsSeconds, 1)}x faster, before VM Import's own 10-20 minutes`);
} finally {
  console.log = consoleLog;
  await Promise.all([ec2Proxy.close(), s3Proxy.close()]);
  await world.close();
}
