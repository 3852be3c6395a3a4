import { execFileSync } from "node:child_process";
import type { TestContext } from "node:test";

/**
 * Finds an external tool a test drives (nix-instantiate, Debian's aws). On a developer's machine a
 * missing tool skips the test with the package to install; in CI (CI=true, where .ci/run installs
 * them) a missing tool fails it, so a broken install step can never turn into a silent skip.
 */
export function requireTool(t: TestContext, command: string, debianPackage: string): string | undefined {
  try {
    return execFileSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).trim();
  } catch {
    const message = `${command} not found: apt-get install ${debianPackage}`;
    if (process.env.CI) throw new Error(`${message} (CI must have it; see .ci/run)`);
    t.skip(message);
    return undefined;
  }
}
