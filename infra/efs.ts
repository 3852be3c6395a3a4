// The hive mind: one encrypted EFS file system the whole fleet shares, reachable only over TLS,
// only with IAM authorization, only from the instances' security group, and only through an
// access point that maps every client to the agent's POSIX user.
import * as aws from "@pulumi/aws";
import type { FleetConfig } from "./config.ts";
import { efsFileSystemPolicy } from "./iam.ts";
import type { Network } from "./network.ts";

export interface HiveMind {
  readonly fileSystem: aws.efs.FileSystem;
  readonly accessPoint: aws.efs.AccessPoint;
  readonly mountTargets: readonly aws.efs.MountTarget[];
}

export function createHiveMind(
  config: FleetConfig["efs"],
  network: Network,
  efsSecurityGroup: aws.ec2.SecurityGroup,
  tags: Record<string, string>,
): HiveMind {
  const fileSystem = new aws.efs.FileSystem("hiveMind", {
    encrypted: true, // with the AWS-managed EFS key; clients need no KMS permission for it
    throughputMode: config.throughputMode,
    performanceMode: "generalPurpose",
    lifecyclePolicies: [{ transitionToIa: "AFTER_30_DAYS" }, { transitionToPrimaryStorageClass: "AFTER_1_ACCESS" }],
    tags: { ...tags, Name: "clawdinator-hive-mind" },
  });
  new aws.efs.FileSystemPolicy("hiveMindPolicy", {
    fileSystemId: fileSystem.id,
    bypassPolicyLockoutSafetyCheck: false,
    policy: fileSystem.arn.apply((arn) => JSON.stringify(efsFileSystemPolicy(arn))),
  });
  new aws.efs.BackupPolicy("hiveMindBackup", { fileSystemId: fileSystem.id, backupPolicy: { status: "ENABLED" } });
  const mountTargets = network.subnetIds.map(
    (subnetId) => new aws.efs.MountTarget(`hiveMind-${subnetId}`, { fileSystemId: fileSystem.id, subnetId, securityGroups: [efsSecurityGroup.id] }),
  );
  const accessPoint = new aws.efs.AccessPoint("hiveMindAgent", {
    fileSystemId: fileSystem.id,
    posixUser: { uid: config.uid, gid: config.gid },
    rootDirectory: {
      path: config.rootDirectory,
      // Created on first mount, owned by the agent, closed to others.
      creationInfo: { ownerUid: config.uid, ownerGid: config.gid, permissions: "0750" },
    },
    tags: { ...tags, Name: "clawdinator-agent" },
  });
  return { fileSystem, accessPoint, mountTargets };
}
