/**
 * Sends one alert notice to one channel: a timeout per attempt, retries
 * with exponential backoff and jitter on 429, 5xx and network errors,
 * `Retry-After` honoured (capped), no retry on other answers.
 */

import type {
  AlertChannel,
  AlertMessage,
  AlertSendResult,
} from "../../ports.ts";
import type { AlertDelivery } from "../../types.ts";
import { errorText } from "./_redact.ts";

/** How to deliver. */
export interface DeliverySettings {
  /** Per-attempt timeout in milliseconds. */
  timeoutMs: number;
  /** Retries after the first attempt. */
  retries: number;
  /** First backoff delay in milliseconds; doubles each retry. */
  backoffMs: number;
  /** Longest backoff delay. */
  maxBackoffMs: number;
  /** Longest wait a `Retry-After` may ask for. */
  maxRetryAfterMs: number;
  /** Waits. */
  sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1) for jitter. */
  random: () => number;
  /** The current moment. */
  now: () => Temporal.Instant;
  /** Removes secrets from error text. */
  redact: (text: string) => string;
}

/** One attempt, for the store. */
export interface AttemptOutcome {
  /** When the attempt started, ISO instant. */
  at: string;
  /** The outcome so far, `attempts` being this attempt's number. */
  delivery: AlertDelivery;
}

/** Delivers with retries; never rejects. */
export async function deliverAlert(
  name: string,
  channel: AlertChannel,
  message: AlertMessage,
  settings: DeliverySettings,
): Promise<{ delivery: AlertDelivery; attempts: AttemptOutcome[] }> {
  const attempts: AttemptOutcome[] = [];
  for (let attempt = 1;; attempt++) {
    const at = settings.now().toString();
    const result = await attemptOnce(channel, message, settings);
    const delivery: AlertDelivery = {
      channel: name,
      ok: result.ok,
      status: result.status,
      attempts: attempt,
      error: result.ok
        ? null
        : settings.redact(result.error ?? describeStatus(result.status)),
    };
    attempts.push({ at, delivery });
    if (result.ok) return { delivery, attempts };
    const retryable = result.retryable ??
      (result.status === null || result.status === 429 ||
        result.status >= 500);
    if (!retryable || attempt > settings.retries) {
      return { delivery, attempts };
    }
    const asked = retryAfterMs(result.retryAfter, settings.now());
    const wait = asked !== null
      ? Math.min(asked, settings.maxRetryAfterMs)
      : backoff(attempt, settings);
    await settings.sleep(wait);
  }
}

async function attemptOnce(
  channel: AlertChannel,
  message: AlertMessage,
  settings: DeliverySettings,
): Promise<AlertSendResult> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => {
      controller.abort(
        new DOMException(
          `Timed out after ${settings.timeoutMs} ms`,
          "TimeoutError",
        ),
      );
      resolve("timeout");
    }, settings.timeoutMs);
  });
  const sending = Promise.resolve().then(() =>
    channel.send(message, controller.signal)
  );
  sending.catch(() => {});
  try {
    const outcome = await Promise.race([sending, timedOut]);
    if (outcome === "timeout") {
      return {
        ok: false,
        status: null,
        retryable: true,
        error: `Timed out after ${settings.timeoutMs} ms`,
      };
    }
    return outcome;
  } catch (error) {
    if (controller.signal.aborted) {
      return {
        ok: false,
        status: null,
        retryable: true,
        error: `Timed out after ${settings.timeoutMs} ms`,
      };
    }
    return {
      ok: false,
      status: null,
      retryable: true,
      error: `Network error: ${settings.redact(errorText(error))}`,
    };
  } finally {
    clearTimeout(timer);
  }
}

function describeStatus(status: number | null): string {
  return status === null ? "No answer" : `Refused with status ${status}`;
}

/** Exponential backoff with equal jitter: half fixed, half random. */
function backoff(attempt: number, settings: DeliverySettings): number {
  const base = Math.min(
    settings.maxBackoffMs,
    settings.backoffMs * 2 ** (attempt - 1),
  );
  return Math.round(base / 2 + (base / 2) * settings.random());
}

/**
 * Milliseconds a `Retry-After` asks to wait: delay-seconds or an HTTP date;
 * null when absent or unreadable.
 */
export function retryAfterMs(
  header: string | null | undefined,
  now: Temporal.Instant,
): number | null {
  if (header === null || header === undefined) return null;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now.epochMilliseconds);
}
