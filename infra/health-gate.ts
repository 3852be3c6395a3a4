// The deploy health gate: a `local.Command` that runs on the deploying machine once an instance is
// (re)created, and waits until that instance reports healthy from its new boot. A new instance that
// does not fails `pulumi up`, and the error names the instance and the reason its own status gives.
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

export interface HealthGateArgs {
  readonly instance: string;
  readonly server: aws.ec2.Instance;
  /** The bootstrap bucket, where `status/<instance>.json` is. */
  readonly bucket: pulumi.Input<string>;
  readonly region: string;
  /** The project folder: the command runs there, so `node cli/clawdinator.js` resolves. */
  readonly rootDir: string;
  readonly timeoutMinutes: number;
  /** How to run the CLI, split on whitespace. @default "node cli/clawdinator.js" */
  readonly cli: string;
}

/** The gate's command line; pure, so a test can read it. */
export function healthGateCommand(args: { cli: string; instance: string; launchTime: string; instanceId: string; timeoutMinutes: number; bucket: string; region: string }): string {
  const argv = [
    ...args.cli.split(/\s+/).filter((part) => part !== ""),
    "fleet",
    "wait-healthy",
    args.instance,
    "--boot-after",
    args.launchTime,
    "--instance-id",
    args.instanceId,
    "--timeout",
    `${args.timeoutMinutes}m`,
    "--bucket",
    args.bucket,
    "--region",
    args.region,
  ];
  return argv.map(shellQuote).join(" ");
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Runs again exactly when the instance is replaced (its id changes) or its image changes: the
 * triggers. A status from the instance it replaced, or from an earlier boot, does not count: the
 * gate passes only a report from this instance id that booted at or after its launch time.
 */
export function createHealthGate(args: HealthGateArgs): command.local.Command {
  const { server } = args;
  // EC2's own launch time: the new boot's report must be from a boot after it.
  const launchTime = aws.ec2.getInstanceOutput({ instanceId: server.id }, { parent: server }).launchTime;
  const create = pulumi
    .all([server.id, launchTime, args.bucket])
    .apply(([instanceId, launch, bucket]) =>
      healthGateCommand({ cli: args.cli, instance: args.instance, launchTime: launch, instanceId, timeoutMinutes: args.timeoutMinutes, bucket, region: args.region }),
    );
  return new command.local.Command(
    `${args.instance}-healthGate`,
    {
      create,
      dir: args.rootDir,
      triggers: [server.id, server.ami],
      logging: "stdoutAndStderr",
    },
    { dependsOn: [server], customTimeouts: { create: `${args.timeoutMinutes + 5}m` } },
  );
}
