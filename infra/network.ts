// Networking: the region's default VPC unless the stack names a VPC and subnets, and the two
// security groups the fleet needs. Why no VPC of our own: instances need outbound HTTPS only
// (Discord, GitHub, model APIs, the Nix cache, S3/SSM); a private subnet would need a NAT gateway
// that costs more than the instances. A public IPv4 address with a group that admits nothing
// inbound exposes nothing: security groups are stateful and no rule lets a connection in.
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { FleetConfig } from "./config.ts";
import { ROLE_TAG } from "./invariants.ts";

export interface Network {
  readonly vpcId: string;
  /** Where EFS mount targets and instances go; at most one per availability zone. */
  readonly subnetIds: readonly string[];
}

/** A fleet whose network cannot be found; says what to configure instead. */
export class NetworkLookupError extends Error {
  override readonly name = "NetworkLookupError";
}

/** The configured network, or the default VPC and its default subnets (looked up before anything is declared). */
export async function resolveNetwork(config: FleetConfig): Promise<Network> {
  if (config.network) return { vpcId: config.network.vpcId, subnetIds: config.network.subnetIds };
  const vpc = await aws.ec2.getVpc({ default: true }).catch((error: unknown) => {
    throw new NetworkLookupError(
      `the region has no default VPC (${error instanceof Error ? error.message : String(error)}); ` +
        `set one: pulumi config set --path network.vpcId vpc-... and network.subnetIds`,
    );
  });
  const subnets = await aws.ec2.getSubnets({
    filters: [
      { name: "vpc-id", values: [vpc.id] },
      { name: "default-for-az", values: ["true"] },
    ],
  });
  if (subnets.ids.length === 0) {
    throw new NetworkLookupError(`default VPC ${vpc.id} has no default subnets; set network.subnetIds`);
  }
  // Sorted so the choice (and so every mount target's name) is stable between runs.
  return { vpcId: vpc.id, subnetIds: [...subnets.ids].sort() };
}

export interface SecurityGroups {
  /** Attached to every instance: no ingress, egress 443 anywhere and 2049 to the EFS group. */
  readonly instances: aws.ec2.SecurityGroup;
  /** Attached to the EFS mount targets: 2049 from the instances' group only. */
  readonly efs: aws.ec2.SecurityGroup;
}

/**
 * Rules are separate resources (not inline) because the two groups reference each other. A new
 * group comes without the default allow-all egress (the provider revokes it), so what is listed
 * here is all there is. DNS (the VPC resolver), NTP (Amazon Time Sync) and the instance metadata
 * service are link-local services security groups never filter, so they need no rule.
 */
export function createSecurityGroups(network: Network, tags: Record<string, string>, opts?: pulumi.CustomResourceOptions): SecurityGroups {
  const instances = new aws.ec2.SecurityGroup(
    "instances",
    {
      vpcId: network.vpcId,
      description: "CLAWDINATOR instances: no inbound at all; outbound HTTPS and NFS to the hive mind",
      tags: { ...tags, Name: "clawdinator-instances", [ROLE_TAG]: "instance" },
    },
    opts,
  );
  const efs = new aws.ec2.SecurityGroup(
    "efs",
    {
      vpcId: network.vpcId,
      description: "CLAWDINATOR hive mind (EFS): NFS from the instances only",
      tags: { ...tags, Name: "clawdinator-efs", [ROLE_TAG]: "efs" },
    },
    opts,
  );
  new aws.vpc.SecurityGroupEgressRule(
    "instancesHttpsOut",
    { securityGroupId: instances.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", description: "Discord, GitHub, model APIs, S3, SSM, Nix cache", tags },
    opts,
  );
  new aws.vpc.SecurityGroupEgressRule(
    "instancesNfsOut",
    { securityGroupId: instances.id, ipProtocol: "tcp", fromPort: 2049, toPort: 2049, referencedSecurityGroupId: efs.id, description: "hive mind over NFS+TLS", tags },
    opts,
  );
  new aws.vpc.SecurityGroupIngressRule(
    "efsNfsIn",
    { securityGroupId: efs.id, ipProtocol: "tcp", fromPort: 2049, toPort: 2049, referencedSecurityGroupId: instances.id, description: "NFS from CLAWDINATOR instances", tags },
    opts,
  );
  return { instances, efs };
}
