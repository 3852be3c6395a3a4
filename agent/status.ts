/** What `status` says about one integration: configured, or offline and why. */
export interface IntegrationStatus {
  readonly name: string;
  readonly state: "configured" | "offline";
  readonly detail: string;
}

export interface StatusReport {
  readonly instance: string;
  readonly version: string;
  readonly transport: string;
  readonly configSource: string;
  readonly startedAt: Date;
  readonly integrations: readonly IntegrationStatus[];
}

export function formatUptime(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const parts: string[] = [];
  const units: Array<[string, number]> = [["d", 86_400], ["h", 3_600], ["m", 60]];
  let rest = seconds;
  for (const [unit, size] of units) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  parts.push(`${rest}s`);
  return parts.join(" ");
}

export function formatStatus(report: StatusReport, now: Date): string {
  const width = Math.max(...report.integrations.map((i) => i.name.length));
  const rows = report.integrations.map(
    (i) => `  ${i.name.padEnd(width)}  ${i.state === "configured" ? "configured" : "offline   "}  ${i.detail}`,
  );
  return [
    `${report.instance} v${report.version}, up ${formatUptime(now.getTime() - report.startedAt.getTime())}`,
    `transport: ${report.transport}; config: ${report.configSource}`,
    "integrations:",
    ...rows,
  ].join("\n");
}
