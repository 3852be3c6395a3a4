// The policy pack as the Pulumi CLI runs it: `node infra/policy/index.ts` in its own folder (plain
// Node stripping types, as `typescript: false` in PulumiPolicy.yaml asks) prints the port of its
// analyzer gRPC server; the test speaks the analyzer protocol to it with Pulumi's own client stubs
// and sends the mocked program's resources, as the engine does during `pulumi preview`.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import emptyPb from "google-protobuf/google/protobuf/empty_pb.js";
import structPb from "google-protobuf/google/protobuf/struct_pb.js";
import analyzerGrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb.js";
import analyzerPb from "@pulumi/pulumi/proto/analyzer_pb.js";
import { TYPES } from "../../infra/invariants.ts";
import { POLICIES } from "../../infra/policy/policies.ts";
import { ROOT } from "../helpers/cli.ts";
import { fleetConfig, instanceConfig, runStack, type CapturedResource } from "./harness.ts";

type Client = InstanceType<typeof analyzerGrpc.AnalyzerClient>;

let pack: ChildProcess;
let client: Client;
let program: CapturedResource[] = [];

function toProto(r: CapturedResource): analyzerPb.AnalyzerResource {
  const resource = new analyzerPb.AnalyzerResource();
  resource.setType(r.type);
  resource.setName(r.name);
  resource.setUrn(r.urn);
  // The engine always sends the resource's options; the pack refuses a request without them.
  resource.setOptions(new analyzerPb.AnalyzerResourceOptions());
  resource.setProperties(structPb.Struct.fromJavaScript(JSON.parse(JSON.stringify(r.inputs)) as Record<string, structPb.JavaScriptValue>));
  const dependencies = resource.getPropertydependenciesMap();
  for (const [property, urns] of Object.entries(r.refs)) dependencies.set(property, new analyzerPb.AnalyzerPropertyDependencies().setUrnsList([...urns]));
  resource.setDependenciesList([...new Set(Object.values(r.refs).flat())]);
  return resource;
}

interface Diagnostic {
  policy: string;
  message: string;
  /** EnforcementLevel: 0 advisory, 1 mandatory. */
  level?: number;
}

function diagnostics(response: analyzerPb.AnalyzeResponse): Diagnostic[] {
  return response.getDiagnosticsList().map((d) => ({ policy: d.getPolicyname(), message: d.getMessage() }));
}

function diagnosticsWithLevel(response: analyzerPb.AnalyzeResponse): Diagnostic[] {
  return response.getDiagnosticsList().map((d) => ({ policy: d.getPolicyname(), message: d.getMessage(), level: d.getEnforcementlevel() }));
}

/** How the engine sends a value it cannot know during preview (@pulumi/pulumi's unknown sentinel). */
const UNKNOWN_AT_PREVIEW = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

function analyzeStack(resources: readonly CapturedResource[]): Promise<Diagnostic[]> {
  const request = new analyzerPb.AnalyzeStackRequest().setResourcesList(resources.map(toProto));
  return new Promise((resolve, reject) => client.analyzeStack(request, (error, response) => (error ? reject(error) : resolve(diagnostics(response)))));
}

function analyzeStackWithLevel(resources: readonly CapturedResource[]): Promise<Diagnostic[]> {
  const request = new analyzerPb.AnalyzeStackRequest().setResourcesList(resources.map(toProto));
  return new Promise((resolve, reject) => client.analyzeStack(request, (error, response) => (error ? reject(error) : resolve(diagnosticsWithLevel(response)))));
}

function analyze(r: CapturedResource): Promise<Diagnostic[]> {
  const p = toProto(r);
  const request = new analyzerPb.AnalyzeRequest()
    .setType(p.getType())
    .setName(p.getName())
    .setUrn(p.getUrn())
    .setProperties(p.getProperties())
    .setOptions(new analyzerPb.AnalyzerResourceOptions());
  return new Promise((resolve, reject) => client.analyze(request, (error, response) => (error ? reject(error) : resolve(diagnostics(response)))));
}

describe("the policy pack over the analyzer protocol", () => {
  before(async () => {
    pack = spawn(process.execPath, ["index.ts"], { cwd: path.join(ROOT, "infra/policy"), stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    pack.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    // No deadline of its own (a loaded machine took 20 s to start it): the runner's test timeout
    // bounds the wait, and an exit before the port fails at once.
    const port = await new Promise<number>((resolve, reject) => {
      pack.stdout?.setEncoding("utf8").once("data", (line: string) => resolve(Number.parseInt(line.trim(), 10)));
      pack.once("exit", (code) => reject(new Error(`the pack exited ${code}: ${stderr}`)));
    });
    client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const fleet = await runStack({ stack: "fleet", config: fleetConfig() });
    const one = await runStack({ stack: "clawdinator-1", config: instanceConfig(), secretKeys: ["clawdinators:ageIdentity"], fleetOutputs: fleet.outputs });
    program = [...fleet.resources, ...one.resources];
  });
  after(() => {
    client?.close();
    pack?.kill();
  });

  it("announces every policy, mandatory", async () => {
    const info = await new Promise<analyzerPb.AnalyzerInfo>((resolve, reject) =>
      client.getAnalyzerInfo(new emptyPb.Empty(), (error, response) => (error ? reject(error) : resolve(response))),
    );
    assert.equal(info.getName(), "clawdinators-security");
    assert.deepEqual(info.getPoliciesList().map((p) => p.getName()).sort(), POLICIES.map((p) => p.name).sort());
  });

  it("finds nothing wrong with the program as written, resource by resource and as a stack", async () => {
    const perResource = (await Promise.all(program.map(analyze))).flat();
    assert.deepEqual(perResource, []);
    assert.deepEqual(await analyzeStack(program), []);
  });

  it("reports an unencrypted root volume and a * policy, resource by resource", async () => {
    const instance = program.find((r) => r.type === TYPES.instance) as CapturedResource;
    const unencrypted = { ...instance, inputs: { ...instance.inputs, rootBlockDevice: { volumeType: "gp3", encrypted: false } } };
    assert.deepEqual((await analyze(unencrypted)).map((d) => d.policy), ["volumes-encrypted"]);
    const access = program.find((r) => r.type === TYPES.rolePolicy && r.name === "access") as CapturedResource;
    const star = { ...access, inputs: { ...access.inputs, policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }) } };
    assert.ok((await analyze(star)).some((d) => d.policy === "policy-bounded"));
  });

  it("reports a bucket without its public access block, and SSH into the instances' group, as a stack", async () => {
    const withoutBlock = program.filter((r) => !(r.type === TYPES.publicAccessBlock && r.name === "bootstrapPublicAccess"));
    assert.ok((await analyzeStack(withoutBlock)).some((d) => d.policy === "buckets-hardened" && /public access/i.test(d.message)));
    const group = program.find((r) => r.type === TYPES.securityGroup && r.name === "instances") as CapturedResource;
    const ssh: CapturedResource = {
      ...group,
      urn: `${group.urn}-ssh`,
      type: TYPES.ingressRule,
      name: "ssh",
      inputs: { securityGroupId: group.id, ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" },
      refs: { securityGroupId: [group.urn] },
    };
    assert.ok((await analyzeStack([...program, ssh])).some((d) => d.policy === "security-groups-minimal"));
    assert.deepEqual((await analyze(ssh)).map((d) => d.policy), ["no-ssh-ingress"]);
  });

  it("an unknown value at preview never turns a mandatory policy advisory: the missing public access block is still mandatory", async () => {
    const withoutBlock = program
      .filter((r) => !(r.type === TYPES.publicAccessBlock && r.name === "bootstrapPublicAccess"))
      .map((r) => (r.type === TYPES.lifecycle ? { ...r, inputs: { ...r.inputs, rules: UNKNOWN_AT_PREVIEW } } : r));
    const found = await analyzeStackWithLevel(withoutBlock);
    const block = found.filter((d) => d.policy === "buckets-hardened" && /public access/i.test(d.message));
    assert.ok(block.length > 0, JSON.stringify(found));
    assert.ok(block.every((d) => d.level === 1), `mandatory: ${JSON.stringify(block)}`);
    assert.ok(!found.some((d) => d.level === 0 && /can't run/.test(d.message)), `no policy skipped as advisory: ${JSON.stringify(found)}`);
  });

  it("an unencrypted-or-unknown root volume fails at preview, mandatory", async () => {
    const instance = program.find((r) => r.type === TYPES.instance) as CapturedResource;
    const unknown = { ...instance, inputs: { ...instance.inputs, rootBlockDevice: { volumeType: "gp3", encrypted: UNKNOWN_AT_PREVIEW } } };
    const request = new analyzerPb.AnalyzeRequest().setType(instance.type).setName(instance.name).setUrn(instance.urn).setProperties(toProto(unknown).getProperties()).setOptions(new analyzerPb.AnalyzerResourceOptions());
    const found = await new Promise<Diagnostic[]>((resolve, reject) => client.analyze(request, (error, response) => (error ? reject(error) : resolve(diagnosticsWithLevel(response)))));
    assert.deepEqual(found.map((d) => [d.policy, d.level]), [["volumes-encrypted", 1]]);
  });
});
