/**
 * A local EC2 instance metadata service that speaks IMDSv2 as AWS documents it: `PUT
 * /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` (1-21600) returns a session token;
 * every GET must carry it in `X-aws-ec2-metadata-token` or gets 401 (http-tokens "required"); a
 * token request carrying `X-Forwarded-For` is refused with 403, as AWS does. Serves user data,
 * the placement region and instance-role credentials. Imports nothing from the product.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ImdsOptions {
  /** Raw user data; undefined answers 404, as an instance launched without any. */
  readonly userData?: string;
  readonly region?: string;
  readonly instanceId?: string;
  /** Instance-role name and the credentials served for it. */
  readonly role?: { readonly name: string; readonly accessKeyId: string; readonly secretAccessKey: string; readonly token: string };
  /** http-tokens "optional" (IMDSv1 allowed) instead of "required". */
  readonly allowV1?: boolean;
  /** The token endpoint answers 403 (metadata tokens disabled by policy), to test a client that must not fall back. */
  readonly refuseTokens?: boolean;
}

export interface ImdsRequest {
  readonly method: string;
  readonly path: string;
  readonly withToken: boolean;
  readonly status: number;
}

export interface FakeImds {
  readonly endpoint: string;
  readonly requests: ImdsRequest[];
  close(): Promise<void>;
}

const MAX_TTL_SECONDS = 21_600;

export async function startImds(options: ImdsOptions): Promise<FakeImds> {
  const tokens = new Map<string, number>(); // token -> expiry (ms)
  const requests: ImdsRequest[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    const method = request.method ?? "GET";
    const token = header(request, "x-aws-ec2-metadata-token");
    const answer = (status: number, body: string, contentType = "text/plain"): void => {
      requests.push({ method, path, withToken: token !== undefined, status });
      response.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body), server: "EC2ws" });
      response.end(body);
    };
    request.resume();
    request.on("end", () => {
      if (path === "/latest/api/token") {
        if (method !== "PUT") return answer(405, "");
        if (options.refuseTokens || header(request, "x-forwarded-for") !== undefined) return answer(403, "");
        const ttl = Number(header(request, "x-aws-ec2-metadata-token-ttl-seconds"));
        if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS) return answer(400, "");
        const issued = `AQAEA${randomBytes(24).toString("base64url")}==`;
        tokens.set(issued, Date.now() + ttl * 1_000);
        response.setHeader("x-aws-ec2-metadata-token-ttl-seconds", String(ttl));
        return answer(200, issued);
      }
      if (method !== "GET" && method !== "HEAD") return answer(405, "");
      if (token === undefined) {
        if (!options.allowV1) return answer(401, "");
      } else if ((tokens.get(token) ?? 0) < Date.now()) {
        return answer(401, "");
      }
      const body = metadata(path, options);
      return body === undefined ? answer(404, notFound()) : answer(200, body.text, body.contentType);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

function metadata(path: string, options: ImdsOptions): { text: string; contentType?: string } | undefined {
  const region = options.region ?? "eu-central-1";
  switch (path) {
    case "/latest/user-data":
      return options.userData === undefined ? undefined : { text: options.userData, contentType: "application/octet-stream" };
    case "/latest/meta-data/placement/region":
      return { text: region };
    case "/latest/meta-data/placement/availability-zone":
      return { text: `${region}a` };
    case "/latest/meta-data/instance-id":
      return { text: options.instanceId ?? "i-0123456789abcdef0" };
    case "/latest/meta-data/iam/security-credentials/":
      return options.role ? { text: options.role.name } : undefined;
  }
  const role = options.role;
  if (role && path === `/latest/meta-data/iam/security-credentials/${role.name}`) {
    const now = new Date();
    return {
      text: JSON.stringify({
        Code: "Success",
        LastUpdated: now.toISOString().replace(/\.\d+Z$/, "Z"),
        Type: "AWS-HMAC",
        AccessKeyId: role.accessKeyId,
        SecretAccessKey: role.secretAccessKey,
        Token: role.token,
        Expiration: new Date(now.getTime() + 6 * 3_600_000).toISOString().replace(/\.\d+Z$/, "Z"),
      }),
    };
  }
  return undefined;
}

function notFound(): string {
  return '<?xml version="1.0" encoding="iso-8859-1"?>\n<html><head><title>404 - Not Found</title></head><body><h1>404 - Not Found</h1></body></html>\n';
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
