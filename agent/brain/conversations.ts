/**
 * Short-term context, kept per conversation key (a Discord channel or thread, the shell). Bounded
 * three ways, so a long-running agent's memory stays flat: at most `maxMessages` turns and
 * `maxChars` characters per conversation, and at most `maxConversations` conversations (the one
 * idle longest is forgotten first). Turns that fall out are not lost: their one-line gists are kept
 * as a short "earlier in this conversation" summary, and every gist is also in the hive mind's
 * daily note (`gist.ts`).
 */

export interface Exchange {
  /** The user turn exactly as the model saw it (header and text, without tool traffic). */
  readonly user: string;
  /** The final answer text. */
  readonly assistant: string;
  /** The one-line gist of the exchange. */
  readonly gist: string;
}

export interface ConversationLimits {
  /** Most user + assistant messages replayed to the model (two per exchange). */
  readonly maxMessages: number;
  /** Most characters of replayed turns. */
  readonly maxChars: number;
  readonly maxConversations: number;
  /** Most characters of the summary of evicted turns. */
  readonly maxSummaryChars: number;
}

export interface ConversationHistory {
  readonly exchanges: readonly Exchange[];
  /** Gists of turns that no longer fit, oldest first; empty when nothing was evicted. */
  readonly earlier: readonly string[];
}

interface Conversation {
  exchanges: Exchange[];
  earlier: string[];
}

export class ConversationStore {
  private readonly limits: ConversationLimits;
  private readonly conversations = new Map<string, Conversation>();

  constructor(limits: ConversationLimits) {
    this.limits = limits;
  }

  get size(): number {
    return this.conversations.size;
  }

  history(key: string): ConversationHistory {
    const conversation = this.conversations.get(key);
    return conversation ? { exchanges: [...conversation.exchanges], earlier: [...conversation.earlier] } : { exchanges: [], earlier: [] };
  }

  record(key: string, exchange: Exchange): void {
    const conversation = this.conversations.get(key) ?? { exchanges: [], earlier: [] };
    // Re-insert so the Map's order is least recently used first.
    this.conversations.delete(key);
    this.conversations.set(key, conversation);
    conversation.exchanges.push(exchange);
    const maxExchanges = Math.floor(this.limits.maxMessages / 2);
    while (
      conversation.exchanges.length > maxExchanges ||
      (conversation.exchanges.length > 0 && charsOf(conversation.exchanges) > this.limits.maxChars)
    ) {
      const evicted = conversation.exchanges.shift();
      if (evicted) conversation.earlier.push(evicted.gist);
    }
    while (conversation.earlier.join("\n").length > this.limits.maxSummaryChars && conversation.earlier.length > 0) {
      conversation.earlier.shift();
    }
    while (this.conversations.size > this.limits.maxConversations) {
      const oldest = this.conversations.keys().next().value;
      if (oldest === undefined) break;
      this.conversations.delete(oldest);
    }
  }
}

function charsOf(exchanges: readonly Exchange[]): number {
  return exchanges.reduce((sum, e) => sum + e.user.length + e.assistant.length, 0);
}
