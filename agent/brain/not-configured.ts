import { howToConfigure } from "../config/secrets.ts";
import type { IntegrationStatus } from "../status.ts";
import type { Reply } from "../transport/types.ts";
import type { Brain } from "./types.ts";

/** The embedded brain: no model, so every free-form message gets a clear "not configured" answer. */
export class NotConfiguredBrain implements Brain {
  readonly status: IntegrationStatus = {
    name: "anthropic",
    state: "offline",
    detail: `no API key: ${howToConfigure("anthropicApiKey")}`,
  };

  async respond(): Promise<Reply> {
    return {
      text:
        `No model configured, so I can only run built-in commands (try "help"). ` +
        `To talk, ${howToConfigure("anthropicApiKey")}.`,
    };
  }
}
