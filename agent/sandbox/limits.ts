/** The sandbox's limits and their defaults (`coding.sandbox.*` in the config). */

export interface SandboxLimits {
  /** Wall-clock limit of one command, in ms; at the deadline the whole tree is killed. */
  readonly wallTimeMs: number;
  /** CPU seconds of a process (RLIMIT_CPU); at the limit it gets SIGXCPU, which ends it. */
  readonly cpuSeconds: number;
  /** Writable private memory per process, bytes (RLIMIT_DATA: heap and anonymous mappings). */
  readonly memoryBytes: number;
  /** Processes (threads included) of the sandbox's uid (RLIMIT_NPROC): stops fork bombs. */
  readonly processes: number;
  /** Largest file a command may write, bytes (RLIMIT_FSIZE); beyond it the write fails with SIGXFSZ. */
  readonly fileSizeBytes: number;
  /** Open file descriptors per process (RLIMIT_NOFILE). */
  readonly openFiles: number;
  /** Output (stdout and stderr together) kept; past it the run is killed and marked. */
  readonly outputBytes: number;
  /** Size of the in-memory `/tmp`, bytes. */
  readonly tmpBytes: number;
}

export const SANDBOX_LIMITS = {
  wallTimeMs: 60_000,
  cpuSeconds: 60,
  memoryBytes: 1_073_741_824,
  processes: 64,
  fileSizeBytes: 67_108_864,
  openFiles: 256,
  outputBytes: 1_048_576,
  tmpBytes: 67_108_864,
} as const satisfies SandboxLimits;
