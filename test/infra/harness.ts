// Runs the real Pulumi program (infra/program.ts) under pulumi.runtime.setMocks and captures every
// declared resource with its inputs, the invokes it made, and the stack outputs. The mocks answer
// like AWS would in shape (ids, ARNs, names), so policies, references and outputs are realistic.
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import type { DeclaredResource } from "../../infra/invariants.ts";
import { programContext } from "../../infra/index.ts";
import { runProgram } from "../../infra/program.ts";
import { ROOT } from "../helpers/cli.ts";
import { FIXTURE_SECRETS_DIR, TEST_AGE_IDENTITY } from "./fixture-secrets.ts";

export { FIXTURE_SECRETS_DIR, TEST_AGE_IDENTITY };

export const ACCOUNT = "123456789012";
export const REGION = "eu-central-1";
export const DEFAULT_SUBNETS = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2", "subnet-0ccccccccccccccc3"];
export const DEFAULT_VPC = "vpc-0123456789abcdef0";
/** What EC2 answers for an instance's launch time (the health gate reads it). */
export const LAUNCH_TIME = "2026-12-02T06:00:00.000Z";

export interface CapturedResource extends DeclaredResource {
  readonly id: string;
  readonly state: Readonly<Record<string, unknown>>;
}

/** Resource options the engine would see (mocks do not pass them to newResource). */
export interface CapturedOptions {
  readonly replaceOnChanges: readonly string[];
  readonly deleteBeforeReplace: boolean;
  readonly dependsOn: number;
}

export interface StackRun {
  readonly resources: readonly CapturedResource[];
  readonly options: ReadonlyMap<string, CapturedOptions>;
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly invokes: readonly string[];
}

export interface RunOptions {
  readonly stack: string;
  /** Full keys (`clawdinators:image`, `aws:region`) to string values, as Pulumi passes them. */
  readonly config: Readonly<Record<string, string>>;
  readonly secretKeys?: readonly string[];
  /** What the fleet StackReference resolves to (an instance stack's input). */
  readonly fleetOutputs?: Readonly<Record<string, unknown>>;
  /** Invoke tokens that fail, as AWS would (e.g. no default VPC in the region). */
  readonly failingInvokes?: readonly string[];
}

function digest(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** The id and extra state AWS would return for a resource of this type. */
function mockState(type: string, name: string, inputs: Record<string, unknown>, fleetOutputs: RunOptions["fleetOutputs"]): { id: string; state: Record<string, unknown> } {
  const h = digest(`${type}::${name}`, 17);
  const arn = (service: string, resource: string, region = REGION): string => `arn:aws:${service}:${region}:${ACCOUNT}:${resource}`;
  switch (type) {
    case "aws:s3/bucket:Bucket": {
      const bucket = `${String(inputs.bucketPrefix ?? "bucket-")}${h.slice(0, 12)}`;
      return { id: bucket, state: { bucket, arn: `arn:aws:s3:::${bucket}` } };
    }
    case "aws:efs/fileSystem:FileSystem":
      return { id: `fs-${h}`, state: { arn: arn("elasticfilesystem", `file-system/fs-${h}`) } };
    case "aws:efs/accessPoint:AccessPoint":
      return { id: `fsap-${h}`, state: { arn: arn("elasticfilesystem", `access-point/fsap-${h}`) } };
    case "aws:kms/key:Key": {
      const keyId = `${h.slice(0, 8)}-aaaa-bbbb-cccc-${h.slice(0, 12)}`;
      return { id: keyId, state: { keyId, arn: arn("kms", `key/${keyId}`) } };
    }
    case "aws:ssm/parameter:Parameter":
      return { id: String(inputs.name), state: { arn: arn("ssm", `parameter${String(inputs.name)}`) } };
    case "aws:iam/role:Role": {
      const roleName = String(inputs.name ?? `${name}-${h.slice(0, 7)}`);
      return { id: roleName, state: { name: roleName, arn: `arn:aws:iam::${ACCOUNT}:role/${roleName}` } };
    }
    case "aws:iam/instanceProfile:InstanceProfile": {
      const profileName = `${name}-${h.slice(0, 7)}`;
      return { id: profileName, state: { name: profileName, arn: `arn:aws:iam::${ACCOUNT}:instance-profile/${profileName}` } };
    }
    case "aws:ec2/securityGroup:SecurityGroup":
      return { id: `sg-${h}`, state: { arn: arn("ec2", `security-group/sg-${h}`) } };
    case "aws:ec2/instance:Instance":
      return { id: `i-${h}`, state: { arn: arn("ec2", `instance/i-${h}`), publicIp: "203.0.113.10" } };
    case "pulumi-nodejs:dynamic:Resource": {
      const identity = `/nix/store/${digest(JSON.stringify([inputs.flake, inputs.nixosConfiguration, inputs.imagePath]), 32)}-nixos-amazon-image`;
      return {
        id: `image-${h}`,
        state: {
          amiId: `ami-${digest(identity, 17)}`,
          snapshotId: `snap-${digest(identity, 17)}`,
          s3Key: "",
          imageSha256: digest(identity, 64),
          identity,
          closure: `/nix/store/${digest(`${identity}closure`, 32)}-nixos-system`,
          sizeBytes: 4294967296,
        },
      };
    }
    case "pulumi:pulumi:StackReference":
      return { id: String(inputs.name), state: { name: inputs.name, outputs: fleetOutputs ?? {}, secretOutputNames: [] } };
    default:
      return { id: `${name}-${h.slice(0, 8)}`, state: {} };
  }
}

/** Every top-level input that equals another resource's id, ARN or name becomes a reference to it. */
function linkReferences(resources: Array<Omit<CapturedResource, "refs"> & { refs: Record<string, string[]> }>): void {
  const byValue = new Map<string, string>();
  for (const r of resources) {
    for (const value of [r.id, r.state.arn, r.state.name, r.state.bucket]) if (typeof value === "string" && value !== "") byValue.set(value, r.urn);
  }
  for (const r of resources) {
    for (const [property, value] of Object.entries(r.inputs)) {
      const candidates = Array.isArray(value) ? value : [value];
      const urns = candidates.flatMap((v) => (typeof v === "string" && byValue.has(v) && byValue.get(v) !== r.urn ? [byValue.get(v) as string] : []));
      if (urns.length > 0) r.refs[property] = urns;
    }
  }
}

/** Runs one stack's program under mocks; rejects with the program's own error. */
export async function runStack(options: RunOptions): Promise<StackRun> {
  const run = await runCaptured(options);
  if (run.error !== undefined) throw run.error;
  return run;
}

/** Runs a stack that is expected to fail; resolves to the error and whatever was declared before it. */
export async function runFailingStack(options: RunOptions): Promise<StackRun & { error: unknown }> {
  const run = await runCaptured(options);
  if (run.error === undefined) throw new Error(`stack ${options.stack} ran without an error`);
  return { ...run, error: run.error };
}

async function runCaptured(options: RunOptions): Promise<StackRun & { error?: unknown }> {
  const captured: Array<Omit<CapturedResource, "refs"> & { refs: Record<string, string[]> }> = [];
  const invokes: string[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const { id, state } = mockState(args.type, args.name, args.inputs as Record<string, unknown>, options.fleetOutputs);
        const urn = `urn:pulumi:${options.stack}::clawdinators::${args.type}::${args.name}`;
        captured.push({ urn, type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown>, refs: {}, id, state });
        return { id, state: { ...(args.inputs as Record<string, unknown>), ...state } };
      },
      call(args) {
        invokes.push(args.token);
        if (options.failingInvokes?.includes(args.token)) throw new Error(`${args.token}: no matching EC2 VPC found`);
        if (args.token === "aws:ec2/getVpc:getVpc") return { id: DEFAULT_VPC, cidrBlock: "172.31.0.0/16", default: true };
        if (args.token === "aws:ec2/getSubnets:getSubnets") return { id: REGION, ids: [...DEFAULT_SUBNETS].reverse() };
        if (args.token === "aws:ec2/getInstance:getInstance") return { id: args.inputs.instanceId, instanceId: args.inputs.instanceId, launchTime: LAUNCH_TIME };
        throw new Error(`unexpected invoke ${args.token}`);
      },
    },
    "clawdinators",
    options.stack,
    false,
    "organization",
  );
  pulumi.runtime.setAllConfig({ ...options.config }, [...(options.secretKeys ?? [])]);
  const resourceOptions = new Map<string, CapturedOptions>();
  let outputs: Record<string, unknown> | undefined;
  let error: unknown;
  try {
    outputs = (await pulumi.runtime.runInPulumiStack(() => {
      pulumi.runtime.registerStackTransformation((args) => {
        const dependsOn = args.opts.dependsOn;
        resourceOptions.set(`${args.type}::${args.name}`, {
          replaceOnChanges: args.opts.replaceOnChanges ?? [],
          deleteBeforeReplace: (args.opts as pulumi.CustomResourceOptions).deleteBeforeReplace === true,
          dependsOn: Array.isArray(dependsOn) ? dependsOn.length : dependsOn ? 1 : 0,
        });
        return undefined;
      });
      // The program's error is kept here rather than thrown through the stack resource, whose
      // output promises would otherwise reject a second time, unhandled.
      return runProgram(programContext(ROOT)).catch((thrown: unknown) => {
        error = thrown;
        return {};
      });
    })) as Record<string, unknown> | undefined;
  } finally {
    // Waits until every registration (including those inside applies) has reached the mocks.
    await pulumi.runtime.disconnect();
  }
  linkReferences(captured);
  const resources = captured.filter((r) => r.type !== "pulumi:pulumi:Stack");
  return { resources, options: resourceOptions, outputs: outputs ?? {}, invokes, ...(error !== undefined ? { error } : {}) };
}

export function fleetConfig(overrides: Record<string, unknown> = {}): Record<string, string> {
  return toRaw({
    "aws:region": REGION,
    "clawdinators:image": { flake: "github:example/clawdinators", nixosConfiguration: "clawdinator" },
    ...overrides,
  });
}

export function instanceConfig(overrides: Record<string, unknown> = {}): Record<string, string> {
  return toRaw({
    "aws:region": REGION,
    "clawdinators:ageIdentity": TEST_AGE_IDENTITY,
    "clawdinators:secretsDir": FIXTURE_SECRETS_DIR,
    "clawdinators:secrets": ["discord-token", "anthropic-api-key", "github-app-key"],
    "clawdinators:repos": [{ name: "clawdinators", url: "https://github.com/example/clawdinators.git", branch: "main" }],
    "clawdinators:agent": { logLevel: "debug", githubApp: { appId: 123456, installationId: 7654321 } },
    ...overrides,
  });
}

/** Stack config values as Pulumi hands them to the program: strings, objects as JSON. */
export function toRaw(values: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

export function ofType(run: StackRun, type: string): CapturedResource[] {
  return run.resources.filter((r) => r.type === type);
}

export function only(run: StackRun, type: string): CapturedResource {
  const found = ofType(run, type);
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  return found[0] as CapturedResource;
}
