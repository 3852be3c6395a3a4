import type { CliCommand } from "./io.ts";

/**
 * What the agent artifact (`npm run bundle`, dist/) runs in place of an operator command. `image`
 * and `bootstrap` drive Pulumi, the image pipeline and the AWS SDK from an operator's machine;
 * they are left out of the instance's artifact (scripts/bundle.ts swaps their modules for this
 * one), so the artifact stays small and carries no Pulumi. Exits 2, like any usage error.
 */
export function operatorOnlyCommand(name: string): CliCommand {
  return {
    async run(_args, io) {
      io.stderr.write(
        `clawdinator: \`clawdinator ${name}\` is an operator command; it is not part of this build of the agent.\n` +
          `Run it from a checkout of the repository: npm ci && npx clawdinator ${name} …\n`,
      );
      return 2;
    },
  };
}
