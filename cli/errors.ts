// Failures the CLI did not anticipate, said in one line that names what was tried and what to check.
// A network error from Node (or from an SDK that passes Node's error on) carries the host it tried
// in `hostname`/`address`/`port`; the message alone ("getaddrinfo ENOTFOUND") tells a user nothing.
// An AWS refusal (HTTP 401/403) often has no body to name it (S3 answers HEAD with headers only), and
// the SDK then calls it "UnknownError".

/** Node's network error codes and what a user should check for each. */
const NETWORK_HINTS: Readonly<Record<string, string>> = {
  ENOTFOUND: "the name does not resolve: check the region or endpoint URL, and DNS",
  EAI_AGAIN: "DNS did not answer: check the network and DNS",
  ECONNREFUSED: "nothing listens there: check the endpoint URL and port (an emulator not started?)",
  ECONNRESET: "the connection was cut: check a proxy or firewall, then retry",
  ETIMEDOUT: "no answer in time: check the network, a proxy (HTTPS_PROXY) or firewall",
  ENETUNREACH: "no route to it: check the network",
  EHOSTUNREACH: "no route to it: check the network",
  CERT_HAS_EXPIRED: "its TLS certificate has expired: check the endpoint URL and the clock",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "its TLS certificate is not trusted: check the endpoint URL (NODE_EXTRA_CA_CERTS for a private CA)",
};

interface NetworkErrorFields {
  readonly code?: unknown;
  readonly hostname?: unknown;
  readonly address?: unknown;
  readonly port?: unknown;
  readonly cause?: unknown;
}

/** The network error inside `error` (itself, or a `cause` down the chain), if there is one. */
function networkError(error: unknown): (Error & NetworkErrorFields) | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const fields = current as Error & NetworkErrorFields;
    if (typeof fields.code === "string" && fields.code in NETWORK_HINTS) return fields;
    current = fields.cause;
  }
  return undefined;
}

const REFUSAL_HINT =
  "check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an expired AWS_SESSION_TOKEN) and the policy of the role and the bucket";

/** An AWS SDK error's HTTP status, from the `$metadata` every SDK v3 service error carries. */
function httpStatus(error: unknown): number | undefined {
  if (!(error instanceof Error) || !("$metadata" in error)) return undefined;
  const metadata = error.$metadata;
  if (metadata === null || typeof metadata !== "object" || !("httpStatusCode" in metadata)) return undefined;
  return typeof metadata.httpStatusCode === "number" ? metadata.httpStatusCode : undefined;
}

/** One line for an unexpected failure: a network error names the endpoint and what to check. */
export function describeFailure(error: unknown): string {
  const status = httpStatus(error);
  if ((status === 401 || status === 403) && error instanceof Error) {
    // A named refusal (AccessDenied, InvalidAccessKeyId, ExpiredToken) keeps its name and AWS's words.
    // The SDK names a bodiless one "Unknown", with the message "UnknownError".
    const named = !["", "Unknown", "UnknownError"].includes(error.name) && !/^\d+$/.test(error.name) && !["", "UnknownError"].includes(error.message);
    return `AWS refused the request (${named ? `${error.name}: ${error.message}` : `HTTP ${status}`}): ${REFUSAL_HINT}`;
  }
  const network = networkError(error);
  if (network) {
    const code = String(network.code);
    const host = typeof network.hostname === "string" ? network.hostname : typeof network.address === "string" ? network.address : undefined;
    const where = host === undefined ? "the endpoint" : typeof network.port === "number" ? `${host}:${network.port}` : host;
    return `could not reach ${where} (${code}): ${NETWORK_HINTS[code]}`;
  }
  return error instanceof Error ? error.message : String(error);
}
