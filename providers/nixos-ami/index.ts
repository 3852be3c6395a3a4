// Public surface of the image pipeline: the Pulumi resource, its provider, and the pipeline steps
// the CLI drives directly (also importable alone from ./steps.ts, without Pulumi).
export { NixosAmi, type NixosAmiArgs, timeoutMinutes } from "./resource.ts";
export { nixosAmiProvider, type NixosAmiProvider } from "./provider.ts";
export type { Architecture, BootMode, Endpoints, ImportMethod, NixosAmiInputs, NixosAmiOutputs, NixosAmiState, Tuning } from "./types.ts";
export * from "./steps.ts";
