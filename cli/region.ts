import { UsageError } from "./io.ts";

/**
 * AWS region names by partition (aws, aws-cn, aws-us-gov, the iso partitions, the European
 * Sovereign Cloud), after the SDK's own partition patterns: checked before any request, so a typo
 * is a usage error rather than a DNS failure minutes later.
 */
const AWS_REGION = /^(?:us|eu|ap|sa|ca|me|af|il|mx|cn|eusc)(?:-(?:gov|iso|isob|isoe|isof|de))?-[a-z]+-\d{1,2}$/;

/** `region` when it is an AWS region name; otherwise a UsageError naming where it came from. */
export function checkRegion(region: string, from: string): string {
  if (AWS_REGION.test(region)) return region;
  throw new UsageError(`${from} "${region}" is not an AWS region; use a name like eu-central-1 or us-east-1 (aws ec2 describe-regions lists yours)`);
}
