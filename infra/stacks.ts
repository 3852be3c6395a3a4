// Which program a stack runs is decided by its name alone, so `pulumi stack init` is the whole
// choice an operator makes: `fleet` for what the instances share, `clawdinator-<n>` for one instance.

/** The fleet stack, or the instance stack of `CLAWDINATOR-<n>`. */
export type StackKind = { readonly kind: "fleet" } | { readonly kind: "instance"; readonly instance: string; readonly index: number };

const FLEET_STACK = "fleet";
/** The n of CLAWDINATOR-<n>: 1 to 9999, no leading zero. */
const INSTANCE_NUMBER = "[1-9][0-9]{0,3}";
const INSTANCE_STACK = new RegExp(`^clawdinator-(${INSTANCE_NUMBER})$`);
/** An instance's own name, as `instanceName` writes it (the stack name upper-cased). */
export const INSTANCE_NAME = new RegExp(`^CLAWDINATOR-${INSTANCE_NUMBER}$`);

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

/** An instance type whose CPU cannot boot the fleet's image. */
export class ArchitectureMismatchError extends Error {
  override readonly name = "ArchitectureMismatchError";
}

/** Whether an EC2 instance type runs arm64 (Graviton: a `g` after the generation digit, or a1). */
export function isArmInstanceType(instanceType: string): boolean {
  const family = instanceType.split(".")[0] ?? "";
  if (family === "a1") return true;
  const suffix = /^[a-z]+\d+([a-z-]*)$/.exec(family)?.[1] ?? "";
  return suffix.includes("g");
}

/** Refuses an instance type that cannot run an image of `architecture`, naming the key to change. */
export function checkInstanceArchitecture(instanceType: string, architecture: string): string {
  const arm = isArmInstanceType(instanceType);
  if (architecture === "arm64" && !arm) {
    throw new ArchitectureMismatchError(`clawdinators:instanceType ${instanceType} is x86_64 but the fleet's image is arm64; pick a Graviton type: pulumi config set instanceType t4g.small`);
  }
  if (architecture === "x86_64" && arm) {
    throw new ArchitectureMismatchError(`clawdinators:instanceType ${instanceType} is arm64 but the fleet's image is x86_64; pulumi config set instanceType t3.small`);
  }
  return instanceType;
}
