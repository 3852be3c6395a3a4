// Runs the provider's check + create in a process of its own, so a test can kill it mid-import.
// Usage: node run-create.ts '<raw inputs as JSON>'; prints the outputs as JSON on the last line.
import { nixosAmiProvider } from "../../providers/nixos-ami/provider.ts";

const raw = JSON.parse(process.argv[2] ?? "{}") as Record<string, unknown>;
const checked = await nixosAmiProvider.check({}, raw);
if (checked.failures?.length) throw new Error(JSON.stringify(checked.failures));
const created = await nixosAmiProvider.create(checked.inputs ?? {});
console.log(JSON.stringify(created.outs));
