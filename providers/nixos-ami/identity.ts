// The identity of an image (docs/IMAGE_PIPELINE.md, "Identity"): the image derivation's store path,
// evaluated without building, or a prebuilt image's SHA-256. Everything else derives from it.
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { runNix } from "./nix.ts";
import { ImagePipelineError } from "./errors.ts";

/**
 * The attribute of `config.system.build` that is the EC2 image on nixpkgs 25.11: defined by
 * `nixos/maintainers/scripts/ec2/amazon-image.nix` (the host configuration must import it), a directory with the
 * disk image and `nix-support/image-info.json`. Its format must be raw (`amazonImage.format = "raw"`)
 * for `ebs-direct`.
 */
export const IMAGE_ATTRIBUTE = "amazonImage";

export interface ImageIdentity {
  /** The image derivation's store path, or `sha256:<hex>` for a prebuilt image. */
  readonly identity: string;
  /** The NixOS toplevel store path; empty for a prebuilt image. */
  readonly closure: string;
  /** SHA-256 of the image file when already known (prebuilt images); empty otherwise. */
  readonly imageSha256: string;
}

export type ImageSource =
  | { readonly kind: "flake"; readonly flake: string; readonly nixosConfiguration: string; readonly nixBinary: string }
  | { readonly kind: "prebuilt"; readonly imagePath: string };

export function imageSource(inputs: { flake?: string; nixosConfiguration?: string; imagePath?: string; nixBinary: string }): ImageSource {
  if (inputs.imagePath !== undefined) return { kind: "prebuilt", imagePath: inputs.imagePath };
  if (inputs.flake === undefined || inputs.nixosConfiguration === undefined)
    throw new ImagePipelineError("INVALID_INPUT", "set flake and nixosConfiguration, or imagePath");
  return { kind: "flake", flake: inputs.flake, nixosConfiguration: inputs.nixosConfiguration, nixBinary: inputs.nixBinary };
}

/** The flake attribute of the configuration's `system.build`. */
export function buildAttribute(source: { flake: string; nixosConfiguration: string }): string {
  return `${source.flake}#nixosConfigurations."${source.nixosConfiguration}".config.system.build`;
}

export async function resolveIdentity(source: ImageSource, signal?: AbortSignal): Promise<ImageIdentity> {
  if (source.kind === "prebuilt") {
    const imageSha256 = await sha256File(source.imagePath, signal);
    return { identity: `sha256:${imageSha256}`, closure: "", imageSha256 };
  }
  // One evaluation for both paths: evaluating a NixOS configuration is the slow part.
  const { stdout } = await runNix(
    source.nixBinary,
    ["eval", "--json", buildAttribute(source), "--apply", `build: { image = build.${IMAGE_ATTRIBUTE}.outPath; toplevel = build.toplevel.outPath; }`],
    { signal },
  );
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new ImagePipelineError("NIX_FAILED", `nix eval printed something that is not JSON: ${stdout.slice(0, 200)}`);
  }
  const { image, toplevel } = (parsed ?? {}) as { image?: unknown; toplevel?: unknown };
  if (typeof image !== "string" || !image.startsWith("/") || typeof toplevel !== "string")
    throw new ImagePipelineError("NIX_FAILED", `nix eval did not return the image and toplevel store paths: ${stdout.slice(0, 200)}`);
  return { identity: image, closure: toplevel, imageSha256: "" };
}

/**
 * A short, stable digest of the identity for names, keys and idempotency tokens: the Nix store
 * hash when the identity is a store path (recognisable next to `nix path-info`), else a hex prefix.
 */
export function identityDigest(identity: string): string {
  const storeHash = /^\/nix\/store\/([0-9a-df-np-sv-z]{32})-/.exec(identity);
  if (storeHash?.[1]) return storeHash[1];
  return createHash("sha256").update(identity).digest("hex").slice(0, 32);
}

/** Bytes read per step of sha256File (less for a smaller file). */
const HASH_READ_SIZE = 4 << 20;

export async function sha256File(filePath: string, signal?: AbortSignal): Promise<string> {
  signal?.throwIfAborted();
  const file = await open(filePath, "r").catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      throw new ImagePipelineError("IMAGE_NOT_FOUND", `the image file ${filePath} does not exist; check imagePath`, { imagePath: filePath }, { cause: error });
    throw error;
  });
  const hash = createHash("sha256");
  try {
    // One buffer for the whole file, rather than a stream's fresh one per read: touching new
    // memory costs more CPU than hashing it (page faults), and images run to gigabytes.
    const { size } = await file.stat();
    const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(HASH_READ_SIZE, size)));
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await file.close();
  }
  return hash.digest("hex");
}
