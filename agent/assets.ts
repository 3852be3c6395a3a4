import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Set to `true` by the bundler (scripts/bundle.ts, esbuild `define`); never defined when the
 * agent runs from its TypeScript sources, where `typeof` of the undeclared name is "undefined".
 */
declare const __CLAWDINATOR_BUNDLED__: boolean | undefined;

/**
 * The folder that holds the files shipped with the agent: `workspace/` (SOUL, IDENTITY, AGENTS,
 * skills) and `memory/` (the hive mind's templates). Every asset path is resolved here, once.
 *
 * From sources, this file is `agent/assets.ts`, so the root is the repository (`..`). In the
 * bundle, esbuild inlines this module into one of the chunks in `dist/` and `import.meta.url`
 * becomes that chunk's URL, so `..` would point above the artifact; scripts/bundle.ts copies the
 * assets beside the chunks and keeps every chunk directly in `dist/` (it checks that), so the
 * root is the chunk's own folder. The choice is made by a build-time define rather than a marker
 * file on disk: it costs no file-system probe at start, and a stray file cannot make a source
 * checkout read assets from somewhere else.
 */
export const ASSET_ROOT: string = fileURLToPath(
  new URL(typeof __CLAWDINATOR_BUNDLED__ !== "undefined" && __CLAWDINATOR_BUNDLED__ ? "./" : "../", import.meta.url),
);

/** A path under the asset root, e.g. `assetPath("workspace")`; a trailing slash is kept. */
export function assetPath(relative: string): string {
  return path.join(ASSET_ROOT, relative);
}
