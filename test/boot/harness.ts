// A world for the boot service: s3rver (a real S3 emulator), the local IMDSv2 and SSM servers, a
// bundle uploaded by the real `clawdinator bootstrap upload` from a real stack file (the same
// infra/bundle.ts code `pulumi up` uses), secrets encrypted with age-encryption to a fresh identity.
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestContext } from "node:test";
import { Encrypter, generateX25519Identity, identityToRecipient } from "age-encryption";
import yaml from "js-yaml";
import { pino } from "pino";
import { DeleteObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { openBootAws } from "../../agent/boot/aws.ts";
import { runBoot, type BootResult } from "../../agent/boot/boot.ts";
import { parseBootSettings, type BootSettings, type BootSettingsInput } from "../../agent/boot/settings.ts";
import { planBundle } from "../../infra/bundle.ts";
import { readBundleSettings } from "../../infra/config.ts";
import { startImds, type FakeImds, type ImdsOptions } from "../fakes/imds/server.ts";
import { startSsm, type FakeSsm } from "../fakes/ssm/server.ts";
import { ROOT, runCli } from "../helpers/cli.ts";
import { startS3 } from "../helpers/s3.ts";

export const BUCKET = "clawdinator-bootstrap-boot";
export const INSTANCE = "CLAWDINATOR-1";
export const PREFIX = `bootstrap/${INSTANCE}/`;
/** The fleet the world's instance belongs to: not the default, so the name must travel from infra to boot. */
export const FLEET = "clawdinators-staging";
export const PARAMETER = `/${FLEET}/${INSTANCE}/age-identity`;
export const CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
/** What the stack file Pulumi.clawdinator-1.yaml ships (its clawdinators:secrets). */
export const PLAINTEXTS: Readonly<Record<string, string>> = {
  "discord-token": "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gx1yZa.discord-token-for-the-boot-test-0001",
  "anthropic-api-key": "sk-ant-api03-boot-test-key-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "openai-api-key": "sk-proj-boot-test-openai-key-bbbbbbbbbbbbbbbbbbbbbbbbbbbb\n",
};
export const FILE_SYSTEM = "fs-0123456789abcdef0";
export const ACCESS_POINT = "fsap-0fedcba9876543210";

export interface BootWorld {
  readonly root: string;
  readonly identity: string;
  readonly s3Endpoint: string;
  readonly s3: S3Client;
  readonly imds: FakeImds;
  readonly ssm: FakeSsm;
  /** Owner the secrets must get: a real other user when the tests run as root. */
  readonly owner: { uid: number; gid: number };
  readonly mounts: string[][];
  settings(overrides?: Partial<BootSettingsInput>): BootSettings;
  /**
   * Uploads the bundle of INSTANCE from a copy of the real stack file: with infra/bundle.ts in this
   * process (what `pulumi up` declares), or through the real `clawdinator bootstrap upload`.
   */
  upload(options?: { viaCli?: boolean }): Promise<void>;
  boot(settings?: BootSettings, extra?: { sleeps?: number[] }): Promise<BootResult>;
  /**
   * What clawdinator-boot.service gives the CLI: a settings file (with a stand-in `mount` that records
   * its arguments), and an environment whose only AWS credentials are the instance role's, from IMDS.
   */
  asBootUnit(): Promise<{ settings: BootSettings; settingsFile: string; mountArgs: () => Promise<string[]>; env: NodeJS.ProcessEnv }>;
  /** Marks the memory mount point as mounted in the fake mountinfo. */
  markMounted(mountPoint: string): Promise<void>;
}

export async function bootWorld(t: TestContext, imdsOptions: Partial<ImdsOptions> = {}): Promise<BootWorld> {
  const root = await mkdtemp(path.join(tmpdir(), "clawdinator-boot-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const s3rverDir = path.join(root, "s3rver");
  await mkdir(s3rverDir);
  const server = await startS3(s3rverDir, [BUCKET]);
  t.after(() => server.close());
  const s3Endpoint = server.endpoint;
  const s3 = new S3Client({ region: "eu-central-1", endpoint: s3Endpoint, forcePathStyle: true, credentials: CREDENTIALS });
  t.after(() => s3.destroy());

  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  const secretsDir = path.join(root, "operator", "secrets");
  await mkdir(secretsDir, { recursive: true });
  for (const [name, plain] of Object.entries(PLAINTEXTS)) {
    const encrypter = new Encrypter();
    encrypter.addRecipient(recipient);
    await writeFile(path.join(secretsDir, `${name}.age`), await encrypter.encrypt(plain));
  }

  const imds = await startImds({
    userData: JSON.stringify({ clawdinator: { bootstrap: `s3://${BUCKET}/${PREFIX}` } }),
    region: "eu-central-1",
    role: { name: "clawdinator-1", accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: CREDENTIALS.secretAccessKey, token: "session-token" },
    ...imdsOptions,
  });
  t.after(() => imds.close());
  const ssm = await startSsm();
  t.after(() => ssm.close());
  // age-keygen's file, comments and all, as `pulumi config set --secret ageIdentity "$(cat …)"` stores it.
  ssm.parameters.set(PARAMETER, { value: `# created: 2026-12-02T00:00:00Z\n# public key: ${recipient}\n${identity}\n`, type: "SecureString" });

  const owner = process.getuid?.() === 0 ? { uid: 2000, gid: 2000 } : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const mountInfo = path.join(root, "mountinfo");
  await writeFile(mountInfo, "22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p1 rw\n");
  const mounts: string[][] = [];

  const settings = (overrides: Partial<BootSettingsInput> = {}): BootSettings =>
    parseBootSettings(
      {
        runDir: path.join(root, "run/clawdinator"),
        stateDir: path.join(root, "var/lib/clawdinator"),
        agenixDir: path.join(root, "run/agenix"),
        owner,
        credentials: [
          { name: "discord-token", configKey: "discordTokenFile", path: "/run/credentials/clawdinator.service/discord-token" },
          { name: "anthropic-api-key", configKey: "anthropicApiKeyFile", path: "/run/credentials/clawdinator.service/anthropic-api-key" },
        ],
        memory: { mountPoint: path.join(root, "var/lib/clawdinator/memory"), efs: "bundle" },
        mountInfo,
        endpoints: { imds: imds.endpoint, s3: s3Endpoint, ssm: ssm.endpoint },
        manifestWaitSeconds: 30,
        ...overrides,
      },
      "test",
    );

  return {
    root,
    identity,
    s3Endpoint,
    s3,
    imds,
    ssm,
    owner,
    mounts,
    settings,
    async upload(options = {}) {
      const stackFile = path.join(root, "operator", "Pulumi.clawdinator-1.yaml");
      await cp(path.join(ROOT, "Pulumi.clawdinator-1.yaml"), stackFile);
      if (!options.viaCli) {
        const document = yaml.load(await readFile(stackFile, "utf8")) as { config: Record<string, unknown> };
        const raw = Object.fromEntries(Object.entries(document.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
        const bundle = readBundleSettings("clawdinator-1", raw);
        const plan = await planBundle({ instance: INSTANCE, secretsDir, secrets: bundle.secrets, repos: bundle.repos, agent: bundle.agent });
        for (const object of plan.render({ bucket: BUCKET, region: "eu-central-1", fileSystemId: FILE_SYSTEM, accessPointId: ACCESS_POINT, ageIdentityParameter: PARAMETER })) {
          await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: object.key, Body: object.body, ContentType: object.contentType }));
        }
        return;
      }
      const outputs = path.join(root, "operator", "outputs.json");
      await writeFile(outputs, JSON.stringify({ bootstrapBucket: BUCKET, efsId: FILE_SYSTEM, efsAccessPointId: ACCESS_POINT, ageIdentityParameter: PARAMETER }));
      const result = await runCli(
        ["bootstrap", "upload", "--instance", INSTANCE, "--stack-file", stackFile, "--outputs", outputs, "--secrets-dir", secretsDir, "--endpoint-url", s3Endpoint],
        { env: { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "", AWS_PROFILE: "" }, cwd: path.join(root, "operator") },
      );
      if (result.code !== 0) throw new Error(`bootstrap upload failed (${result.code}):\n${result.stderr}`);
    },
    async boot(bootSettings = settings(), extra = {}) {
      const log = pino({ level: "silent" });
      const aws = await openBootAws(bootSettings, { credentials: CREDENTIALS });
      let clock = 0;
      return runBoot(bootSettings, {
        aws,
        log,
        run: async (command, args) => {
          mounts.push([command, ...args]);
        },
        now: () => clock,
        sleep: async (ms) => {
          extra.sleeps?.push(ms);
          clock += ms;
        },
      });
    },
    async asBootUnit() {
      const recorded = path.join(root, "mount-args");
      const mount = path.join(root, "fake-mount");
      await writeFile(mount, `#!/bin/sh\nprintf '%s\\n' "$@" > '${recorded}'\n`);
      await chmod(mount, 0o755);
      const unitSettings = settings({ mountCommand: mount });
      const settingsFile = path.join(root, "boot-settings.json");
      await writeFile(settingsFile, JSON.stringify(unitSettings));
      const env: NodeJS.ProcessEnv = {
        AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint,
        AWS_ACCESS_KEY_ID: "",
        AWS_SECRET_ACCESS_KEY: "",
        AWS_SESSION_TOKEN: "",
        AWS_PROFILE: "",
        AWS_SHARED_CREDENTIALS_FILE: path.join(root, "no-credentials"),
        AWS_CONFIG_FILE: path.join(root, "no-config"),
      };
      return { settings: unitSettings, settingsFile, env, mountArgs: async () => (await readFile(recorded, "utf8")).trim().split("\n") };
    },
    async markMounted(mountPoint) {
      const line = `40 22 0:50 / ${mountPoint.replace(/ /g, "\\040")} rw,relatime shared:20 - nfs4 127.0.0.1:/ rw,vers=4.1\n`;
      await writeFile(mountInfo, (await readFile(mountInfo, "utf8")) + line);
    },
  };
}

export async function putObject(world: BootWorld, key: string, body: string | Buffer): Promise<void> {
  await world.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

export async function deleteObject(world: BootWorld, key: string): Promise<void> {
  await world.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
}

