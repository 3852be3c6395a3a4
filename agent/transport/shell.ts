import { clearLine, createInterface, cursorTo, type Interface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { IncomingMessage, MessageHandler, Reply, Transport } from "./types.ts";

export interface ShellTransportOptions {
  readonly input: Readable;
  readonly output: Writable;
  /** Show a prompt and label replies: true on a terminal, false on a pipe. */
  readonly interactive: boolean;
  readonly instance: string;
  /** The local user; on the shell the operator counts as a maintainer. */
  readonly user?: string;
}

/**
 * The embedded transport: a prompt on a terminal, one message per line on a pipe. Lines are
 * handled strictly in order, one at a time, so piped input gets its answers in the same order.
 */
export class ShellTransport implements Transport {
  readonly name = "shell";
  readonly finished: Promise<void>;
  private readonly options: ShellTransportOptions;
  private readline: Interface | undefined;
  private queue: Promise<void> = Promise.resolve();
  private sequence = 0;
  /** The prompt is on screen, waiting for input (not while an answer is being worked out). */
  private prompting = false;
  private markFinished!: () => void;

  constructor(options: ShellTransportOptions) {
    this.options = options;
    this.finished = new Promise((resolve) => (this.markFinished = resolve));
  }

  async start(onMessage: MessageHandler): Promise<void> {
    const { input, output, interactive, instance } = this.options;
    const readline = createInterface({ input, output: interactive ? output : undefined, terminal: interactive });
    this.readline = readline;
    readline.setPrompt("you> ");
    readline.on("line", (line) => {
      this.prompting = false;
      const message = this.toMessage(line);
      if (message === undefined) {
        this.prompt();
        return;
      }
      this.queue = this.queue.then(() => onMessage(message)).then(() => this.prompt());
    });
    readline.on("close", () => {
      void this.queue.then(() => this.markFinished());
    });
    if (interactive) output.write(`${instance} online. Type "help", or talk. Ctrl-D leaves.\n`);
    this.prompt();
  }

  async send(_to: IncomingMessage, reply: Reply): Promise<void> {
    const { output, interactive, instance } = this.options;
    const text = renderReply(interactive ? { ...reply, text: `${instance}> ${reply.text}` } : reply);
    await new Promise<void>((resolve, reject) => output.write(`${text}\n`, (error) => (error ? reject(error) : resolve())));
  }

  /** A post of the agent's own (the GitHub digest), printed with the channel it was meant for. */
  async post(channel: string, text: string): Promise<void> {
    const { output } = this.options;
    await new Promise<void>((resolve, reject) => output.write(`[post to ${channel}]\n${text}\n`, (error) => (error ? reject(error) : resolve())));
  }

  async stop(): Promise<void> {
    this.readline?.close();
    await this.finished;
  }

  /**
   * Runs `write` (a log line on the same terminal) without breaking the prompt: the prompt line is
   * cleared first, and the prompt with whatever was typed so far is drawn again after.
   */
  aboveThePrompt(write: () => void): void {
    const { output, interactive } = this.options;
    if (!interactive || !this.prompting || this.readline === undefined) {
      write();
      return;
    }
    cursorTo(output, 0);
    clearLine(output, 0);
    write();
    this.readline.prompt(true);
  }

  private prompt(): void {
    if (!this.options.interactive || this.readline === undefined) return;
    this.prompting = true;
    this.readline.prompt();
  }

  private toMessage(line: string): IncomingMessage | undefined {
    const text = line.trim();
    if (text === "") return undefined;
    const user = this.options.user ?? "operator";
    return {
      id: `shell-${++this.sequence}`,
      text,
      author: { id: `local:${user}`, name: user, roleIds: [] },
      conversation: "shell",
      origin: "shell",
      addressed: true,
      receivedAt: new Date(),
    };
  }
}

/** A reply as text for a terminal: its text, then each attached file between markers. */
export function renderReply(reply: Reply): string {
  const files = (reply.files ?? []).map(
    (file) => `--- attached: ${file.name} (${Buffer.byteLength(file.content)} bytes) ---\n${file.content.replace(/\n?$/, "\n")}--- end of ${file.name} ---`,
  );
  return [reply.text, ...files].join("\n");
}
