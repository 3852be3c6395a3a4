// The policy pack's policies: thin adapters from @pulumi/policy's arguments to the pure invariants
// in infra/invariants.ts, so `pulumi preview --policy-pack infra/policy` enforces exactly what the
// mock tests assert. Separate from index.ts, which starts the pack's server when loaded.
import { UnknownValueError, type PolicyResource, type ReportViolation, type ResourceValidationArgs, type ResourceValidationPolicy, type StackValidationPolicy } from "@pulumi/policy";
import { RESOURCE_RULES, STACK_RULES, UNKNOWN, type DeclaredResource, type Invariant, type ResourceCheck, type StackCheck } from "./invariants.ts";

/**
 * What a validated resource looks like to the invariants: plain values, with each value unknown at
 * preview replaced by `UNKNOWN`. (@pulumi/policy hands props behind a proxy that throws on an
 * unknown; a rule that tripped it would be reported as advisory, so a mandatory rule quietly turned
 * into a warning. Here every rule sees the marker instead and decides: fail, or check again at up.)
 */
export function declared(r: Pick<PolicyResource, "urn" | "type" | "name" | "props"> & { propertyDependencies?: PolicyResource["propertyDependencies"] }): DeclaredResource {
  const refs: Record<string, string[]> = {};
  for (const [property, dependencies] of Object.entries(r.propertyDependencies ?? {})) refs[property] = dependencies.map((d) => d.urn);
  const inputs = known(r.props);
  return { urn: r.urn, type: r.type, name: r.name, inputs: inputs !== null && typeof inputs === "object" && !Array.isArray(inputs) ? (inputs as Record<string, unknown>) : {}, refs };
}

/** A deep plain copy of `value`, reading through the unknown-checking proxy; unknowns become UNKNOWN. */
function known(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  const read = (container: object, key: string | number): unknown => {
    try {
      return known((container as Record<string | number, unknown>)[key]);
    } catch (error) {
      if (error instanceof UnknownValueError) return UNKNOWN;
      throw error;
    }
  };
  if (Array.isArray(value)) return Array.from({ length: value.length }, (_, i) => read(value, i));
  return Object.fromEntries(Object.keys(value).map((key) => [key, read(value, key)]));
}

function resourcePolicy({ name, description, check }: Invariant<ResourceCheck>): ResourceValidationPolicy {
  return {
    name,
    description,
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
      for (const v of check(declared(args))) report(`${v.resource}: ${v.message}`);
    },
  };
}

function stackPolicy({ name, description, check }: Invariant<StackCheck>): StackValidationPolicy {
  return {
    name,
    description,
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
      for (const v of check(args.resources.map(declared))) report(`${v.resource}: ${v.message}`, v.urn);
    },
  };
}

/** One mandatory policy per invariant, under the invariant's own name. */
export const POLICIES: ReadonlyArray<ResourceValidationPolicy | StackValidationPolicy> = [...RESOURCE_RULES.map(resourcePolicy), ...STACK_RULES.map(stackPolicy)];
