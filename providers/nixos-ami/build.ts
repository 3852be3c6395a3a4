// `nix build` of the image derivation, then the raw file inside its output.
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { ImagePipelineError } from "./errors.ts";
import { buildAttribute, IMAGE_ATTRIBUTE } from "./identity.ts";
import { runNix } from "./nix.ts";
import type { Reporter } from "./progress.ts";

export type DiskFormat = "raw" | "vhd" | "vmdk";

export interface BuiltImage {
  /** The derivation output (a store path). */
  readonly outPath: string;
  /** The disk image file inside it. */
  readonly filePath: string;
  readonly format: DiskFormat;
  readonly sizeBytes: number;
}

export interface BuildRequest {
  readonly nixBinary: string;
  readonly flake: string;
  readonly nixosConfiguration: string;
}

export async function buildImage(request: BuildRequest, report: Reporter, signal?: AbortSignal): Promise<BuiltImage> {
  const attribute = `${buildAttribute(request)}.${IMAGE_ATTRIBUTE}`;
  report({ step: "build", message: `nix build ${attribute}` });
  const { stdout } = await runNix(request.nixBinary, ["build", "--no-link", "--print-out-paths", attribute], {
    signal,
    onLogLine: (line) => report({ step: "build", message: line }),
  });
  const outPath = stdout.trim().split("\n").pop() ?? "";
  if (!outPath.startsWith("/")) throw new ImagePipelineError("NIX_FAILED", `nix build printed no output path (got ${JSON.stringify(stdout.slice(0, 200))})`);
  return locateImage(outPath);
}

/**
 * Finds the disk image in a build output (or accepts a file). nixpkgs' image builders write
 * `nix-support/image-info.json` naming the file; without it, the one disk image in the folder.
 */
export async function locateImage(outPath: string): Promise<BuiltImage> {
  const info = await stat(outPath).catch((error: unknown) => {
    throw new ImagePipelineError("IMAGE_NOT_FOUND", `${outPath} does not exist`, { outPath }, { cause: error });
  });
  let filePath = outPath;
  if (info.isDirectory()) {
    const named = await readFile(path.join(outPath, "nix-support/image-info.json"), "utf8")
      .then((text) => (JSON.parse(text) as { disks?: { root?: { file?: string } }; file?: string }))
      .then((json) => json.disks?.root?.file ?? json.file)
      .catch(() => undefined);
    if (named !== undefined) filePath = path.isAbsolute(named) ? named : path.join(outPath, named);
    else {
      const candidates = (await readdir(outPath)).filter((name) => /\.(raw|img|vhd|vmdk)$/.test(name));
      if (candidates.length !== 1 || candidates[0] === undefined)
        throw new ImagePipelineError("IMAGE_NOT_FOUND", `expected one disk image (.raw, .img, .vhd, .vmdk) in ${outPath}, found ${candidates.length}`, { outPath });
      filePath = path.join(outPath, candidates[0]);
    }
  }
  const fileInfo = await stat(filePath);
  const extension = path.extname(filePath).slice(1);
  const format: DiskFormat = extension === "vhd" ? "vhd" : extension === "vmdk" ? "vmdk" : "raw";
  return { outPath, filePath, format, sizeBytes: fileInfo.size };
}
