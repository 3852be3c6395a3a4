// Where the age identity lives: an SSM SecureString per instance, encrypted with the fleet's own
// KMS key, readable by that instance's role alone. It never touches S3 (the upstream kept it in the
// same bundle as the ciphertext it opens) and never appears in user data or a plain output.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ageIdentityParameterName, FLEET_TAG } from "./invariants.ts";

/** `alias/<fleet>-secrets`: the alias of a fleet's secrets key; aliases are account-wide, so each fleet has its own. */
export function secretsKeyAlias(fleet: string): string {
  return `alias/${fleet}-secrets`;
}

/**
 * The fleet's key for instance secrets. No key policy is set, so AWS applies its default (the
 * account's IAM policies decide); each instance role may use it only via SSM, for its own parameter.
 */
export function createSecretsKey(fleet: string, tags: Record<string, string>): aws.kms.Key {
  const key = new aws.kms.Key("secrets", {
    description: "CLAWDINATOR age identities in SSM Parameter Store",
    enableKeyRotation: true,
    deletionWindowInDays: 30,
    tags,
  });
  // A second fleet left at the same name fails here at `up` (AlreadyExistsException), before any
  // instance could write a parameter into the first fleet's prefix.
  new aws.kms.Alias("secretsAlias", { name: secretsKeyAlias(fleet), targetKeyId: key.keyId });
  return key;
}

/** The instance's age identity, as a SecureString under the fleet key, at `/<fleet>/<instance>/age-identity`. */
export function createAgeIdentityParameter(
  fleet: pulumi.Input<string>,
  instance: string,
  ageIdentity: pulumi.Input<string>,
  secretsKeyArn: pulumi.Input<string>,
  tags: Record<string, string>,
): aws.ssm.Parameter {
  return new aws.ssm.Parameter("ageIdentity", {
    name: pulumi.output(fleet).apply((name) => ageIdentityParameterName(name, instance)),
    description: `age identity that decrypts ${instance}'s agenix secrets at boot`,
    type: "SecureString",
    keyId: secretsKeyArn,
    // Marked secret here, whatever the caller passed: Pulumi encrypts it in state and masks it in output.
    value: pulumi.secret(ageIdentity),
    tier: "Standard",
    tags: { ...tags, [FLEET_TAG]: fleet },
  });
}
