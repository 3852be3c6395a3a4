// The program of a `clawdinator-<n>` stack: one CLAWDINATOR instance booted from the fleet's image,
// its role, its age identity in SSM and its bootstrap bundle. Everything shared comes from the
// fleet stack's outputs through a StackReference.
import path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createBundleObjects } from "./bootstrap.ts";
import { DEFAULT_FLEET_NAME, type InstanceConfig } from "./config.ts";
import { bootstrapPrefix, planBundle, statusKey, type BootFacts } from "./bundle.ts";
import type { FleetOutputName } from "./fleet.ts";
import { createHealthGate } from "./health-gate.ts";
import { ec2TrustPolicy, instancePolicy } from "./iam.ts";
import { FLEET_NAME, FLEET_TAG, INSTANCE_TAG, RELEASE_KEY } from "./invariants.ts";
import { createAgeIdentityParameter } from "./secrets.ts";
import { checkInstanceArchitecture, qualifiedStackName } from "./stacks.ts";

/** The JSON user data: where the bundle is, nothing else (no secrets, no configuration). */
function userDataFor(bucket: string, instance: string): string {
  return JSON.stringify({ clawdinator: { bootstrap: `s3://${bucket}/${bootstrapPrefix(instance)}` } });
}

export async function instanceProgram(config: InstanceConfig, rootDir: string): Promise<Record<string, pulumi.Input<unknown>>> {
  const { instance } = config;
  const tags = { ...config.tags, "clawdinators:stack": pulumi.getStack(), [INSTANCE_TAG]: instance };
  // Read and check every secret file before anything is declared: a missing file stops here.
  const plan = await planBundle({
    instance,
    secretsDir: path.resolve(rootDir, config.secretsDir),
    secrets: config.secrets,
    repos: config.repos,
    agent: config.agent,
  });

  const fleetRef = new pulumi.StackReference("fleet", { name: qualifiedStackName(config.fleetStack, pulumi.getOrganization(), pulumi.getProject()) });
  const fleet = <T,>(name: FleetOutputName): pulumi.Output<T> => fleetRef.requireOutput(name) as pulumi.Output<T>;
  const bootstrapBucket = fleet<string>("bootstrapBucket");
  const region = config["aws:region"];
  // Read, never configured here: the fleet stack's name is the one its key alias was made with.
  const fleetName = fleetRef.getOutput("fleetName").apply((value: unknown) => fleetNameFrom(value, config.fleetStack));

  const parameter = createAgeIdentityParameter(fleetName, instance, config.ageIdentity, fleet<string>("secretsKeyArn"), tags);

  const role = new aws.iam.Role("role", {
    description: `${instance}: its own bootstrap prefix, its own age identity, the hive mind`,
    assumeRolePolicy: JSON.stringify(ec2TrustPolicy()),
    // The policy pack scopes the role to /<fleet>/<instance>/ by these two tags.
    tags: { ...tags, [FLEET_TAG]: fleetName },
  });
  const access = new aws.iam.RolePolicy("access", {
    role: role.name,
    policy: pulumi
      .all([fleet<string>("bootstrapBucketArn"), parameter.arn, fleet<string>("secretsKeyArn"), fleet<string>("efsArn"), fleet<string>("efsAccessPointArn")])
      .apply(([bootstrapBucketArn, ageIdentityParameterArn, secretsKeyArn, fileSystemArn, accessPointArn]) =>
        JSON.stringify(
          instancePolicy({
            bootstrapBucketArn,
            bootstrapPrefix: plan.prefix,
            ageIdentityParameterArn,
            secretsKeyArn,
            region,
            fileSystemArn,
            accessPointArn,
            statusKey: statusKey(instance),
            releaseKey: RELEASE_KEY,
          }),
        ),
      ),
  });
  const profile = new aws.iam.InstanceProfile("profile", { role: role.name, tags });

  const boot: pulumi.Output<BootFacts> = pulumi
    .all([bootstrapBucket, fleet<string>("efsId"), fleet<string>("efsAccessPointId"), parameter.name])
    .apply(([bucket, fileSystemId, accessPointId, ageIdentityParameter]) => ({ bucket, region, fileSystemId, accessPointId, ageIdentityParameter }));
  const bundle = createBundleObjects(plan, bootstrapBucket, boot, tags);

  const subnetIds = fleet<string[]>("subnetIds");
  const subnetId = config.subnetId ?? subnetIds.apply((ids) => spreadSubnet(ids, config.index));
  const server = new aws.ec2.Instance(
    instance,
    {
      ami: fleet<string>("amiId"),
      // The fleet's architecture is only known through the reference; a mismatch fails here, by name.
      instanceType: fleet<string>("architecture").apply((architecture) => checkInstanceArchitecture(config.instanceType, architecture)),
      subnetId,
      vpcSecurityGroupIds: [fleet<string>("instanceSecurityGroupId")],
      iamInstanceProfile: profile.name,
      associatePublicIpAddress: true,
      // No keyName: there is no SSH key, and the security group admits nothing anyway.
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" },
      rootBlockDevice: { volumeType: "gp3", volumeSize: config.rootVolumeGiB, encrypted: true, deleteOnTermination: true, tags },
      userData: bootstrapBucket.apply((bucket) => userDataFor(bucket, instance)),
      userDataReplaceOnChange: true,
      tags: { ...tags, Name: instance },
    },
    {
      // Image-based: a new AMI (or new user data) is a new instance, never an in-place change.
      replaceOnChanges: ["ami", "userData"],
      // Two CLAWDINATOR-<n> answering on Discord at once would double every reply.
      deleteBeforeReplace: true,
      // The instance reads all of these during its first boot.
      dependsOn: [...bundle, parameter, access],
    },
  );

  const gate = config.healthGate.enabled
    ? createHealthGate({ instance, server, bucket: bootstrapBucket, region, rootDir, timeoutMinutes: config.healthGate.timeoutMinutes, cli: config.healthGate.cli })
    : undefined;

  const bootstrapUri = pulumi.interpolate`s3://${bootstrapBucket}/${plan.prefix}`;
  return {
    ...(gate ? { healthGate: gate.stdout } : {}),
    instance,
    fleetName,
    instanceId: server.id,
    amiId: server.ami,
    efsId: fleet<string>("efsId"),
    efsAccessPointId: fleet<string>("efsAccessPointId"),
    bootstrapBucket,
    bootstrapPrefix: bootstrapUri,
    ageIdentityParameter: parameter.name,
    roleArn: role.arn,
    nextSteps: pulumi.interpolate`${instance} boots from ${server.ami} and pulls ${bootstrapUri}.
  Its health:            clawdinator fleet status --bucket ${bootstrapBucket} --region ${region}
  Watch its boot:        aws ec2 get-console-output --latest --instance-id ${server.id} --region ${region} --output text
  Repair its bundle:     pulumi stack output --json > outputs.json && clawdinator bootstrap upload --instance ${instance} --outputs outputs.json
  Rotate its identity:   age-keygen -o new.agekey, re-encrypt the secrets to it, pulumi config set --secret ageIdentity "$(cat new.agekey)", pulumi up
  Replace it:            pulumi up --replace 'urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::aws:ec2/instance:Instance::${instance}'`,
  };
}

/**
 * The fleet stack's `fleetName` output, checked. A fleet stack deployed before the output existed
 * has none, and its names were the fixed `alias/clawdinators-secrets` and `/clawdinators/…`, which
 * is exactly the default name's: so an instance (and a PR preview that reads the deployed fleet)
 * keeps working until the fleet is next deployed. Two fleets could not share an account then, so
 * this names no other fleet's parameter.
 */
export function fleetNameFrom(value: unknown, fleetStack: string): string {
  if (value === undefined) return DEFAULT_FLEET_NAME;
  if (typeof value !== "string" || !FLEET_NAME.test(value)) {
    throw new Error(`the fleet stack ${fleetStack} exports fleetName ${JSON.stringify(value)}, which is not a fleet name; fix clawdinators:fleetName there and run \`pulumi up --stack fleet\``);
  }
  return value;
}

/** Spreads instances over the fleet's subnets (so over availability zones) by their number. */
export function spreadSubnet(subnetIds: readonly string[], index: number): string {
  const subnet = subnetIds[(index - 1) % subnetIds.length];
  if (subnet === undefined) throw new Error("the fleet stack exports no subnetIds; run `pulumi up --stack fleet` first");
  return subnet;
}
