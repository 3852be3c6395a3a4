// Failures the CLI did not anticipate, said in one line that names what was tried and what to check.
// A network error from Node (or from an SDK that passes Node's error on) carries the host it tried
// in `hostname`/`address`/`port`; the message alone ("getaddrinfo ENOTFOUND") tells a user nothing.

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

/** One line for an unexpected failure: a network error names the endpoint and what to check. */
export function describeFailure(error: unknown): string {
  const network = networkError(error);
  if (network) {
    const code = String(network.code);
    const host = typeof network.hostname === "string" ? network.hostname : typeof network.address === "string" ? network.address : undefined;
    const where = host === undefined ? "the endpoint" : typeof network.port === "number" ? `${host}:${network.port}` : host;
    return `could not reach ${where} (${code}): ${NETWORK_HINTS[code]}`;
  }
  return error instanceof Error ? error.message : String(error);
}
