// Which program a stack runs is decided by its name alone, so `pulumi stack init` is the whole
// choice an operator makes: `fleet` for what the instances share, `clawdinator-<n>` for one instance.

/** The fleet stack, or the instance stack of `CLAWDINATOR-<n>`. */
export type StackKind = { readonly kind: "fleet" } | { readonly kind: "instance"; readonly instance: string; readonly index: number };

export const FLEET_STACK = "fleet";
const INSTANCE_STACK = /^clawdinator-([1-9][0-9]{0,3})$/;

/** A stack name that names neither program; the message says which names work. */
export class StackNameError extends Error {
  override readonly name = "StackNameError";
  readonly stackName: string;
  constructor(stack: string) {
    super(
      `stack "${stack}" runs no program: name it "fleet" (shared resources) or "clawdinator-<n>" with n from 1 to 9999 ` +
        `(one instance), e.g. \`pulumi stack init clawdinator-1\``,
    );
    this.stackName = stack;
  }
}

export function parseStackName(stack: string): StackKind {
  if (stack === FLEET_STACK) return { kind: "fleet" };
  const match = INSTANCE_STACK.exec(stack);
  if (!match?.[1]) throw new StackNameError(stack);
  const index = Number.parseInt(match[1], 10);
  return { kind: "instance", instance: instanceName(index), index };
}

/** `CLAWDINATOR-<n>`: the name the agent, the tags and the bootstrap prefix all use. */
export function instanceName(index: number): string {
  return `CLAWDINATOR-${index}`;
}

/** The stack that holds `instance` (`CLAWDINATOR-3` → `clawdinator-3`). */
export function stackNameOf(instance: string): string {
  return instance.toLowerCase();
}

/** A StackReference name: `fleet` becomes `<org>/<project>/fleet`; a qualified name is kept. */
export function qualifiedStackName(name: string, organization: string, project: string): string {
  const parts = name.split("/");
  if (parts.length === 3) return name;
  if (parts.length === 2) return `${parts[0]}/${project}/${parts[1]}`;
  return `${organization}/${project}/${name}`;
}
