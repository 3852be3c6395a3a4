// The Pulumi-facing image resource: one content-addressed NixOS AMI. The work happens in the
// dynamic provider (provider.ts); this class only types the inputs and declares the outputs.
import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS, timeoutMinutes } from "./inputs.ts";
import { nixosAmiProvider } from "./provider.ts";
import type { Architecture, BootMode, ImportMethod, Tuning } from "./types.ts";

export type { Architecture, BootMode, ImportMethod, Tuning } from "./types.ts";
// Lives with the other input parsing, so it can be used and tested without loading Pulumi.
export { timeoutMinutes } from "./inputs.ts";

export interface NixosAmiArgs {
  /**
   * Flake reference holding the NixOS configuration. Changing what it evaluates to replaces the image.
   * @example "github:openclaw/clawdinators" or an absolute path
   */
  flake?: pulumi.Input<string>;
  /**
   * Name under `nixosConfigurations` of `flake`. Replaces the image when its image derivation changes.
   * @example "clawdinator-1"
   */
  nixosConfiguration?: pulumi.Input<string>;
  /**
   * A prebuilt raw image, instead of `flake` + `nixosConfiguration`; its SHA-256 is the identity,
   * so a different file replaces the image.
   */
  imagePath?: pulumi.Input<string>;
  /** S3 bucket for raw images; required by `vm-import`, unused by `ebs-direct`. */
  bucket?: pulumi.Input<string>;
  /** @default "images/" */
  keyPrefix?: pulumi.Input<string>;
  /** AWS region of the AMI. Changing it replaces the image. */
  region: pulumi.Input<string>;
  /** Changing it replaces the image. @default "x86_64" */
  architecture?: pulumi.Input<Architecture>;
  /** Changing it replaces the image. @default "uefi" */
  bootMode?: pulumi.Input<BootMode>;
  /** AMI name prefix; the name is `<prefix>-<identity hash>`, never instance-specific. @default "clawdinator-nixos" */
  namePrefix?: pulumi.Input<string>;
  /** Extra tags on the AMI, its snapshot and the S3 object. Updated in place. */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * How the snapshot is made (see docs/IMAGE_PIPELINE.md). Not part of the identity: switching
   * method does not replace an existing image.
   * @default "ebs-direct"
   */
  importMethod?: pulumi.Input<ImportMethod>;
  /** Older images (same name prefix) to keep besides the current one; older ones are removed. @default 2 */
  keep?: pulumi.Input<number>;
  /** IAM service role VM Import assumes to read the bucket. @default "vmimport" */
  vmImportRoleName?: pulumi.Input<string>;
  /** The `nix` executable. @default "nix" */
  nixBinary?: pulumi.Input<string>;
  /** Base URLs for local emulators or other partitions; the SDK's own resolution otherwise. */
  endpoints?: pulumi.Input<{ s3?: string; ec2?: string; ebs?: string }>;
  /** Poll intervals, parallelism and retries (see `DEFAULT_TUNING`); never replaces the image. */
  tuning?: pulumi.Input<Partial<Tuning>>;
}

/**
 * A NixOS image as an AMI. Built, uploaded and imported only when its identity (the image
 * derivation's store path, or a prebuilt image's SHA-256) changes; an AMI already tagged with the
 * identity is adopted.
 */
export class NixosAmi extends pulumi.dynamic.Resource {
  declare public readonly amiId: pulumi.Output<string>;
  declare public readonly snapshotId: pulumi.Output<string>;
  declare public readonly s3Key: pulumi.Output<string>;
  declare public readonly imageSha256: pulumi.Output<string>;
  declare public readonly identity: pulumi.Output<string>;
  declare public readonly closure: pulumi.Output<string>;
  declare public readonly sizeBytes: pulumi.Output<number>;

  constructor(name: string, args: NixosAmiArgs, opts?: pulumi.CustomResourceOptions) {
    // Dynamic providers never see the engine's timeouts, so the create timeout travels as an input.
    const importTimeoutMinutes = timeoutMinutes(opts?.customTimeouts?.create, DEFAULTS.importTimeoutMinutes);
    super(
      nixosAmiProvider,
      name,
      {
        ...args,
        importTimeoutMinutes,
        amiId: undefined,
        snapshotId: undefined,
        s3Key: undefined,
        imageSha256: undefined,
        identity: undefined,
        closure: undefined,
        sizeBytes: undefined,
      },
      opts,
    );
  }
}
