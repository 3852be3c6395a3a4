/**
 * A local AWS Systems Manager Parameter Store endpoint for what the boot service calls:
 * `GetParameter` over the AWS JSON 1.1 protocol (`POST /`, `X-Amz-Target: AmazonSSM.GetParameter`,
 * `Content-Type: application/x-amz-json-1.1`, a SigV4 `Authorization` header), with the service's
 * error shape (`{"__type": …, "message": …}`, HTTP 400) for ParameterNotFound, AccessDeniedException
 * and unknown operations. A SecureString is returned decrypted only with `WithDecryption: true`.
 * Imports nothing from the product.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { text as readText } from "node:stream/consumers";

export interface StoredParameter {
  readonly value: string;
  readonly type?: "String" | "SecureString" | "StringList";
}

export interface SsmRequest {
  readonly target: string;
  readonly body: Record<string, unknown>;
  readonly signed: boolean;
  readonly status: number;
}

export interface FakeSsm {
  readonly endpoint: string;
  readonly requests: SsmRequest[];
  /** Parameters by name; tests may change them between calls. */
  readonly parameters: Map<string, StoredParameter>;
  /** Names the caller may not read (AccessDeniedException), as an IAM policy scoped to another instance. */
  readonly denied: Set<string>;
  close(): Promise<void>;
}

const SIGV4 = /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/ssm\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/;

export async function startSsm(options: { region?: string; account?: string } = {}): Promise<FakeSsm> {
  const region = options.region ?? "eu-central-1";
  const account = options.account ?? "123456789012";
  const parameters = new Map<string, StoredParameter>();
  const denied = new Set<string>();
  const requests: SsmRequest[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    void readText(request).then((text) => {
      const target = String(request.headers["x-amz-target"] ?? "");
      const signed = SIGV4.test(String(request.headers.authorization ?? ""));
      let body: Record<string, unknown> = {};
      const send = (status: number, payload: unknown): void => {
        requests.push({ target, body, signed, status });
        const out = JSON.stringify(payload);
        response.writeHead(status, {
          "content-type": "application/x-amz-json-1.1",
          "content-length": Buffer.byteLength(out),
          "x-amzn-requestid": randomBytes(16).toString("hex"),
        });
        response.end(out);
      };
      const fail = (type: string, message: string): void => send(400, { __type: type, message });
      if (request.method !== "POST" || !String(request.headers["content-type"] ?? "").startsWith("application/x-amz-json-1.1")) {
        return fail("SerializationException", "expected POST with application/x-amz-json-1.1");
      }
      try {
        body = JSON.parse(text || "{}") as Record<string, unknown>;
      } catch {
        return fail("SerializationException", "body is not JSON");
      }
      if (!signed) return fail("MissingAuthenticationTokenException", "Missing Authentication Token");
      if (target !== "AmazonSSM.GetParameter") return fail("UnknownOperationException", `unknown operation ${target}`);
      const name = body.Name;
      if (typeof name !== "string" || name.length === 0) return fail("ValidationException", "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null");
      const arn = `arn:aws:ssm:${region}:${account}:parameter${name.startsWith("/") ? "" : "/"}${name}`;
      if (denied.has(name)) {
        return fail(
          "AccessDeniedException",
          `User: arn:aws:sts::${account}:assumed-role/clawdinator/i-0123 is not authorized to perform: ssm:GetParameter on resource: ${arn} because no identity-based policy allows the ssm:GetParameter action`,
        );
      }
      const stored = parameters.get(name);
      if (!stored) return fail("ParameterNotFound", "");
      const type = stored.type ?? "SecureString";
      const value = type === "SecureString" && body.WithDecryption !== true ? `AQICAH${Buffer.from(stored.value).toString("base64").slice(0, 40)}` : stored.value;
      return send(200, {
        Parameter: { Name: name, Type: type, Value: value, Version: 1, LastModifiedDate: 1_764_633_600, ARN: arn, DataType: "text" },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    parameters,
    denied,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
