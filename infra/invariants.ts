// The security invariants live with the policy pack (infra/policy/invariants.ts), so the pack
// publishes on its own; the program and its tests import them from here, as before.
export * from "./policy/invariants.ts";
