// The hive-mind memory: what the agent (brain tools, main, CLI) imports.
export type { MemoryStore } from "./types.ts";
export { FileMemoryStore, openMemoryStore, MEMORY_DEFAULTS, type MemoryStoreOptions, type ClaimRecord } from "./store.ts";
export { seedMemory, readTemplates, DEFAULT_TEMPLATES_DIR, type SeedResult } from "./seed.ts";
export { dailyNotePath, appendDailyNote } from "./daily.ts";
export { checkMemoryPath, MEMORY_EXTENSIONS } from "./paths.ts";
export {
  MemoryError,
  MemoryPathError,
  MemoryTooLargeError,
  MemoryLockTimeoutError,
  MemoryLockLostError,
  type MemoryErrorCode,
  type LockHolderInfo,
} from "./errors.ts";
