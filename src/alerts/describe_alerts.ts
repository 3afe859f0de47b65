/**
 * A plain-text account of the notices a run would send, for
 * `cli.ts run --dry-run-alerts`.
 *
 * @module
 */

import type { PlannedAlert } from "./plan_alerts.ts";

/** Options of {@linkcode describeAlerts}. */
export interface DescribeAlertsOptions {
  /** Channel types by name, shown next to each target. @default {} */
  channelTypes?: Readonly<Record<string, string>>;
  /** The heading. @default "Alerts (dry run, nothing sent):" */
  title?: string;
}

const VERB: Readonly<Record<string, string>> = {
  fire: "FIRING",
  repeat: "REPEAT",
  resolve: "RESOLVED",
};

/**
 * Describes planned notices, one block per notice: what (firing, reminder
 * or resolved), which KPI and rule, to which channels, and the message;
 * then a count of rules that hold but were already notified.
 *
 * @param plans The plan of a run (see `planAlerts`).
 * @param options Channel types and the heading.
 * @returns Lines of text ending in a newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const text = describeAlerts([]);
 * assert.match(text, /No alerts to send/);
 * ```
 */
export function describeAlerts(
  plans: readonly PlannedAlert[],
  options: DescribeAlertsOptions = {},
): string {
  const types = options.channelTypes ?? {};
  const lines = [options.title ?? "Alerts (dry run, nothing sent):"];
  let quiet = 0;
  let sending = 0;
  for (const plan of plans) {
    if (plan.action === "none") {
      if (plan.triggered) quiet++;
      continue;
    }
    sending++;
    const targets = plan.targets.map((name) =>
      types[name] ? `${name} (${types[name]})` : name
    );
    for (const name of plan.unknownChannels) {
      targets.push(`${name} (unknown channel, skipped)`);
    }
    lines.push(
      `  ${VERB[plan.action]} ${plan.kpi} [${plan.message.severity}] ${
        JSON.stringify(plan.message.condition)
      } → ${targets.length > 0 ? targets.join(", ") : "no channel"}`,
      `    ${plan.message.message}`,
    );
    if (plan.problem) lines.push(`    note: ${plan.problem}`);
  }
  if (sending === 0) lines.push("  No alerts to send.");
  if (quiet > 0) {
    lines.push(
      `  ${quiet} rule${
        quiet === 1 ? "" : "s"
      } still holding, already notified.`,
    );
  }
  return `${lines.join("\n")}\n`;
}
