// What the CLI's AWS clients take from the environment the command is given (`io.env`), in one
// place. The SDK reads credentials and endpoints from `process.env`: the same thing in the real
// process, but a command run in process with an environment of its own (runCommandLine, as the
// tests run it) would otherwise sign with whatever the host process has, or hang on IMDS.

/** Static credentials, the shape every SDK v3 client's `credentials` accepts. */
export interface AwsKeys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * The keys in `env` (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), as the SDK's
 * environment provider reads them; undefined when either key is unset or empty, so the client
 * keeps the SDK's default chain (a profile, SSO, the instance role through IMDS).
 */
export function credentialsFrom(env: NodeJS.ProcessEnv): AwsKeys | undefined {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/**
 * A service's endpoint from `env`, the SDK's standard variables (AWS_ENDPOINT_URL_<SERVICE>, then
 * AWS_ENDPOINT_URL); undefined when neither is set. Callers put their own flag first and pass the
 * result on explicitly: an explicit S3 endpoint also switches to path-style addressing, which
 * emulators need.
 */
export function endpointFrom(env: NodeJS.ProcessEnv, service: "s3" | "ec2" | "ebs"): string | undefined {
  return env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] || env.AWS_ENDPOINT_URL || undefined;
}
