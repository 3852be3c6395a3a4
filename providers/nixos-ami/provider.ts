// The dynamic provider. Pulumi serializes this object into the resource's state and runs it in a
// separate host process, so it captures nothing from module scope except the absolute URLs of the
// modules that do the work, which every method loads with `await import()` (see
// docs/IMAGE_PIPELINE.md, "Closure serialization", and test/image/serialization.test.ts).
import type * as pulumi from "@pulumi/pulumi";
import type * as operations from "./operations.ts";
import type { NixosAmiInputs, NixosAmiState } from "./types.ts";

const OPERATIONS_MODULE = new URL("./operations.ts", import.meta.url).href;

type Operations = typeof operations;

/** Raw inputs as the engine hands them over: unvalidated. */
export type RawInputs = Record<string, unknown>;

export interface NixosAmiProvider extends pulumi.dynamic.ResourceProvider<RawInputs, NixosAmiState> {
  check(olds: RawInputs, news: RawInputs): Promise<pulumi.dynamic.CheckResult<RawInputs>>;
  diff(id: string, olds: NixosAmiState, news: RawInputs): Promise<pulumi.dynamic.DiffResult>;
  create(inputs: RawInputs): Promise<pulumi.dynamic.CreateResult<NixosAmiState>>;
  read(id: string, props?: NixosAmiState): Promise<pulumi.dynamic.ReadResult<NixosAmiState>>;
  update(id: string, olds: NixosAmiState, news: RawInputs): Promise<pulumi.dynamic.UpdateResult<NixosAmiState>>;
  delete(id: string, props: NixosAmiState): Promise<void>;
}

// The engine calls `check` first and passes what it returned to diff/create/update, so from there on
// the inputs are normalized `NixosAmiInputs` (hence the casts).
export const nixosAmiProvider: NixosAmiProvider = {
  async check(_olds, news) {
    const ops: Operations = await import(OPERATIONS_MODULE);
    return ops.check(news);
  },
  async diff(_id, olds, news) {
    const ops: Operations = await import(OPERATIONS_MODULE);
    return ops.diff(olds, news as unknown as NixosAmiInputs);
  },
  async create(inputs) {
    const ops: Operations = await import(OPERATIONS_MODULE);
    return ops.create(inputs as unknown as NixosAmiInputs, ops.consoleReporter());
  },
  async read(id, props) {
    const ops: Operations = await import(OPERATIONS_MODULE);
    return ops.read(id, props);
  },
  async update(_id, olds, news) {
    const ops: Operations = await import(OPERATIONS_MODULE);
    return ops.update(olds, news as unknown as NixosAmiInputs, ops.consoleReporter());
  },
  async delete(_id, props) {
    const ops: Operations = await import(OPERATIONS_MODULE);
    await ops.remove(props, ops.consoleReporter());
  },
};
