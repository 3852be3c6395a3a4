// The pipeline's own tags: how every step finds what an earlier (maybe interrupted) run made.
import type { Tag } from "@aws-sdk/client-ec2";

export const TAG = {
  identity: "clawdinator:identity",
  closure: "clawdinator:closure",
  imageSha256: "clawdinator:image-sha256",
  sourceKey: "clawdinator:source-key",
  sizeBytes: "clawdinator:size-bytes",
  namePrefix: "clawdinator:name-prefix",
  importMethod: "clawdinator:import-method",
} as const;

export interface ImageFacts {
  readonly identity: string;
  readonly closure: string;
  readonly imageSha256: string;
  /** `s3://bucket/key` for vm-import, `file:<name>` for ebs-direct. */
  readonly sourceKey: string;
  readonly sizeBytes: number;
  readonly namePrefix: string;
  readonly importMethod: string;
}

/** Tag values are at most 256 characters; store paths and keys fit. */
export function factTags(facts: ImageFacts, name: string, extra: Readonly<Record<string, string>>): Tag[] {
  const own: Record<string, string> = {
    Name: name,
    [TAG.identity]: facts.identity,
    [TAG.imageSha256]: facts.imageSha256,
    [TAG.sourceKey]: facts.sourceKey,
    [TAG.sizeBytes]: String(facts.sizeBytes),
    [TAG.namePrefix]: facts.namePrefix,
    [TAG.importMethod]: facts.importMethod,
    ...(facts.closure ? { [TAG.closure]: facts.closure } : {}),
  };
  return Object.entries({ ...extra, ...own }).map(([Key, Value]) => ({ Key, Value }));
}

export function tagMap(tags: readonly Tag[] | undefined): Map<string, string> {
  return new Map((tags ?? []).flatMap((tag) => (tag.Key !== undefined ? [[tag.Key, tag.Value ?? ""] as const] : [])));
}

/** `s3://bucket/key` → { bucket, key }; anything else → undefined. */
export function parseS3Source(sourceKey: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(sourceKey);
  return match?.[1] && match[2] ? { bucket: match[1], key: match[2] } : undefined;
}
