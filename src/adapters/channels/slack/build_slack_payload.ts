/**
 * The Slack incoming-webhook body (Block Kit) for one alert notice.
 *
 * @module
 */

import { describeDrivers } from "../../../segments/describe_drivers.ts";
import type { AlertMessage } from "../../../ports.ts";
import { COMPARISON_CODES } from "../../../types.ts";
import {
  describeComparison,
  formatValue,
} from "../../../format/format_number.ts";
import { formatDayRange } from "../../../format/format_day_range.ts";

/** A Slack incoming-webhook body: fallback text and Block Kit blocks. */
export interface SlackPayload {
  /** Plain text for notifications and clients without blocks. */
  text: string;
  /** The Block Kit blocks. */
  blocks: Record<string, unknown>[];
}

const ICON: Readonly<Record<string, string>> = {
  critical: "🔴",
  warning: "🟠",
  info: "🔵",
};

/** Escapes the three characters Slack's mrkdwn treats as markup. */
function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(
    />/g,
    "&gt;",
  );
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Builds the Block Kit message for one alert notice: a header with the KPI
 * label and status, the value with its unit, the period, the severity and
 * the condition, each comparison's change with an arrow (`▲ +20.0%`), the
 * message, and a context line with the KPI name and run.
 *
 * @param message The alert notice.
 * @returns The JSON body to POST to a Slack incoming webhook.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const body = buildSlackPayload({
 *   status: "firing", repeat: false,
 *   kpi: { name: "revenue", label: "Revenue", unit: "USD" }, value: 86250,
 *   period: { label: "2024-11", start: "2024-11-01", end: "2024-12-01" },
 *   severity: "critical", condition: "< 100000", rule: "critical:< 100000",
 *   message: "Revenue dropped", comparisons: {}, dedupKey: "k",
 *   runId: "r1", runAt: "2024-12-01T09:00:00Z",
 * });
 * assert.equal(body.blocks[0]?.type, "header");
 * assert.match(body.text, /Revenue/);
 * ```
 */
export function buildSlackPayload(message: AlertMessage): SlackPayload {
  const resolved = message.status === "resolved";
  const value = formatValue(message.value, message.kpi.unit, {
    missing: "n/a",
  });
  const blocks: Record<string, unknown>[] = [
    ...summaryBlocks(message, value),
    ...detailBlocks(message),
    {
      type: "section",
      text: { type: "mrkdwn", text: clip(esc(message.message), 3000) },
    },
    {
      type: "context",
      elements: [{
        type: "mrkdwn",
        text: esc(`kpi-engine · ${message.kpi.name} · run ${message.runId}`),
      }],
    },
  ];
  const text = `${
    resolved ? "Resolved" : message.severity.toUpperCase()
  }: ${message.kpi.label} is ${value} for ${message.period.label}. ${message.message}`;
  return { text: clip(esc(text), 3000), blocks };
}

/** The header and the value, period, severity and condition fields. */
function summaryBlocks(
  message: AlertMessage,
  value: string,
): Record<string, unknown>[] {
  const resolved = message.status === "resolved";
  const icon = resolved ? "✅" : ICON[message.severity] ?? "⚪";
  const state = resolved
    ? "resolved"
    : message.repeat
    ? `${message.severity}, still firing`
    : message.severity;
  const title = `${icon} ${message.kpi.label}: ${state}`;
  const range = formatDayRange(message.period.start, message.period.end);
  const period = message.period.label === range
    ? range
    : `${message.period.label} (${range})`;
  return [
    {
      type: "header",
      text: { type: "plain_text", text: clip(title, 150), emoji: true },
    },
    {
      type: "section",
      fields: [
        { type: "mrkdwn", text: `*Value*\n${esc(value)}` },
        { type: "mrkdwn", text: `*Period*\n${esc(period)}` },
        {
          type: "mrkdwn",
          text: `*Severity*\n${esc(message.severity)}${
            resolved ? " (resolved)" : ""
          }`,
        },
        {
          type: "mrkdwn",
          text: `*Condition*\n\`${esc(message.condition)}\``,
        },
      ],
    },
  ];
}

/** The comparisons and the drivers, when there are any. */
function detailBlocks(message: AlertMessage): Record<string, unknown>[] {
  const blocks: Record<string, unknown>[] = [];
  const lines = COMPARISON_CODES
    .filter((code) => message.comparisons[code] !== undefined)
    .map((code) =>
      `*${code}* ${
        esc(describeComparison(message.comparisons[code], message.kpi.unit))
      }`
    );
  if (lines.length > 0) {
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: lines.join("\n") },
    });
  }
  if (message.drivers && message.drivers.drivers.length > 0) {
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: clip(
          `*Drivers (${message.drivers.compare})*\n${
            message.drivers.drivers.slice(0, 5).map((d) =>
              `• ${esc(describeDrivers([d]))}`
            ).join("\n")
          }`,
          3000,
        ),
      },
    });
  }
  return blocks;
}
