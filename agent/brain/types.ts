import type { IntegrationStatus } from "../status.ts";
import type { IncomingMessage, Reply } from "../transport/types.ts";

/**
 * The seam for free-form conversation. With a model key it is the Claude-backed brain; without one
 * it is `NotConfiguredBrain`, which answers every message by saying what to configure.
 */
export interface Brain {
  readonly status: IntegrationStatus;
  respond(message: IncomingMessage): Promise<Reply>;
  /**
   * Resolves once background work started by earlier answers (hive-mind gists) is done. The
   * composition root awaits it before the process exits; tests await it before reading memory.
   */
  flush?(): Promise<void>;
  /**
   * The maintainer's own `confirm <id>` / `cancel <id>` (a typed reply or a button): runs or drops a
   * change the model proposed in a turn that held third-party text. Never called with model text.
   */
  confirm?(message: IncomingMessage, id: string, accept: boolean): Promise<Reply>;
}
