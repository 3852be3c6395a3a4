// The policy pack's policies: thin adapters from @pulumi/policy's arguments to the pure invariants
// in infra/invariants.ts, so `pulumi preview --policy-pack infra/policy` enforces exactly what the
// mock tests assert. Separate from index.ts, which starts the pack's server when loaded.
import type { PolicyResource, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { RESOURCE_RULES, STACK_RULES, type DeclaredResource, type Invariant, type ResourceCheck, type StackCheck } from "../invariants.ts";

/** What a validated resource looks like to the invariants. Unknown (preview) values stay absent. */
export function declared(r: Pick<PolicyResource, "urn" | "type" | "name" | "props"> & { propertyDependencies?: PolicyResource["propertyDependencies"] }): DeclaredResource {
  const refs: Record<string, string[]> = {};
  for (const [property, dependencies] of Object.entries(r.propertyDependencies ?? {})) refs[property] = dependencies.map((d) => d.urn);
  return { urn: r.urn, type: r.type, name: r.name, inputs: r.props as Record<string, unknown>, refs };
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
