// The provider's operations, loaded on demand by provider.ts. (Filled in step by step.)
import type * as pulumi from "@pulumi/pulumi";
import type { NixosAmiInputs, NixosAmiState } from "./types.ts";

export interface Reporter {
  info(message: string): void;
}

export function consoleReporter(): Reporter {
  return { info: (message) => console.log(message) };
}

export async function check(news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult<Record<string, unknown>>> {
  return { inputs: news };
}

export async function diff(_olds: NixosAmiState, _news: NixosAmiInputs): Promise<pulumi.dynamic.DiffResult> {
  return { changes: false };
}

export async function create(_inputs: NixosAmiInputs, _reporter: Reporter): Promise<pulumi.dynamic.CreateResult<NixosAmiState>> {
  throw new Error("nixos-ami: create is not implemented yet");
}

export async function read(id: string, props?: NixosAmiState): Promise<pulumi.dynamic.ReadResult<NixosAmiState>> {
  return { id, props };
}

export async function update(_olds: NixosAmiState, _news: NixosAmiInputs, _reporter: Reporter): Promise<pulumi.dynamic.UpdateResult<NixosAmiState>> {
  throw new Error("nixos-ami: update is not implemented yet");
}

export async function remove(_props: NixosAmiState, _reporter: Reporter): Promise<void> {
  throw new Error("nixos-ami: delete is not implemented yet");
}
