// The bootstrap bundle as Pulumi-managed S3 objects. The listing comes from the pure plan in
// bundle.ts, shared with `clawdinator bootstrap upload`.
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { BootFacts, BundleObject, BundlePlan } from "./bundle.ts";

export function createBundleObjects(
  plan: BundlePlan,
  bucket: pulumi.Input<string>,
  boot: pulumi.Output<BootFacts>,
  tags: Record<string, string>,
): aws.s3.BucketObjectv2[] {
  const rendered = boot.apply((facts) => plan.render(facts));
  const objectAt = (key: string): pulumi.Output<BundleObject> =>
    rendered.apply((objects) => {
      const found = objects.find((o) => o.key === key);
      if (!found) throw new Error(`bundle plan lists ${key} but did not render it`);
      return found;
    });
  const contents = plan.keys.slice(0, -1).map((key) => declare(key, objectAt(key), bucket, tags));
  // The manifest goes last: a complete manifest on S3 means every object it lists is there.
  const manifestKey = plan.keys[plan.keys.length - 1] ?? "";
  return [...contents, declare(manifestKey, objectAt(manifestKey), bucket, tags, contents)];
}

function declare(
  key: string,
  object: pulumi.Output<BundleObject>,
  bucket: pulumi.Input<string>,
  tags: Record<string, string>,
  dependsOn: pulumi.Resource[] = [],
): aws.s3.BucketObjectv2 {
  return new aws.s3.BucketObjectv2(
    `bundle:${key}`,
    {
      bucket,
      key,
      contentBase64: object.apply((o) => o.body.toString("base64")),
      contentType: object.apply((o) => o.contentType),
      // S3 verifies the upload against this digest; the manifest lists the same one.
      checksumAlgorithm: "SHA256",
      serverSideEncryption: "AES256",
      tags: { ...tags, "clawdinators:sha256": object.apply((o) => o.sha256) },
    },
    { dependsOn },
  );
}
