// What the CLI's AWS clients take from the environment a command is given (`io.env`), in one
// place. The SDK reads credentials and endpoints from `process.env`: the same thing in the real
// process, but a command run in process with an environment of its own (runCommandLine, as the
// tests run it) would otherwise sign with whatever the host process has, or hang on IMDS.

/** The keys in the environment, or undefined for the SDK's default chain (shared with the agent). */
export { credentialsFrom } from "../agent/ops/store.ts";

/**
 * A service's endpoint from `env`, the SDK's standard variables (AWS_ENDPOINT_URL_<SERVICE>, then
 * AWS_ENDPOINT_URL); undefined when neither is set. Callers put their own flag first and pass the
 * result on explicitly: an explicit S3 endpoint also switches to path-style addressing, which
 * emulators need.
 */
export function endpointFrom(env: NodeJS.ProcessEnv, service: "s3" | "ec2" | "ebs"): string | undefined {
  return env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] || env.AWS_ENDPOINT_URL || undefined;
}
