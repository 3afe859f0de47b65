/**
 * The port every alert channel implements (Slack, email, PagerDuty,
 * webhook, or one of your own), and the message it is handed.
 *
 * @module
 */

import type {
  AlertStateStatus,
  ComparisonCode,
  ComparisonResult,
  Severity,
} from "../types.ts";

/** One alert notice, as handed to every channel. */
export interface AlertMessage {
  /** `firing` when the rule holds, `resolved` when it stopped holding. */
  status: AlertStateStatus;
  /** Whether this is a reminder of an alert already sent (`repeat_interval`). */
  repeat: boolean;
  /** The KPI. */
  kpi: { name: string; label: string; unit: string | null };
  /** The KPI's value in the period, or null. */
  value: number | null;
  /** The period computed: its label and `[start, end)` ISO days. */
  period: { label: string; start: string; end: string };
  /** The rule's severity. */
  severity: Severity;
  /** The rule's condition. */
  condition: string;
  /** The rule's id within the KPI (`severity:condition`). */
  rule: string;
  /** The rendered message. */
  message: string;
  /** The result's comparisons by code. */
  comparisons: Partial<Record<ComparisonCode, ComparisonResult>>;
  /** Ties a firing notice to its resolve notice (see `alertDedupKey`). */
  dedupKey: string;
  /** The run that sent it. */
  runId: string;
  /** When the run happened, ISO instant. */
  runAt: string;
}

/** What one attempt to send a message to a channel came to. */
export interface AlertSendResult {
  /** Whether the channel accepted the message. */
  ok: boolean;
  /** HTTP status or SMTP reply code, or null when there was no reply. */
  status: number | null;
  /**
   * Whether trying again may help. When absent, the notifier decides from
   * `status`: 429, 5xx and no reply are retried, anything else is not.
   */
  retryable?: boolean;
  /** The `Retry-After` header as received, if any. */
  retryAfter?: string | null;
  /** Why it failed, with secrets already removed. */
  error?: string | null;
}

/** Something alerts can be sent to. */
export interface AlertChannel {
  /** The channel's name, as used in a rule's `channels: [...]`. */
  readonly name: string;
  /** The kind of channel, e.g. `slack`; shown in dry runs. */
  readonly type: string;
  /**
   * Sends one message. Resolves with the outcome of the attempt; a rejection
   * counts as a network error (retried). Must stop when `signal` aborts.
   */
  send(message: AlertMessage, signal: AbortSignal): Promise<AlertSendResult>;
  /** What `send` would transmit, secrets hidden, for dry runs. */
  preview?(message: AlertMessage): unknown;
}
