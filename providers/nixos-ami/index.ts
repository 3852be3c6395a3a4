// Public surface of the image pipeline: the Pulumi resource, its provider, and the pipeline steps
// the CLI drives directly.
export { NixosAmi, type NixosAmiArgs, timeoutMinutes, DEFAULT_IMPORT_TIMEOUT_MINUTES } from "./resource.ts";
export { nixosAmiProvider } from "./provider.ts";
export type { Architecture, BootMode, Endpoints, ImportMethod, NixosAmiInputs, NixosAmiOutputs, NixosAmiState } from "./types.ts";
