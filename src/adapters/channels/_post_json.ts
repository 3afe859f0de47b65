/**
 * POSTs one JSON body and reads the answer as an alert send outcome; shared
 * by the Slack, PagerDuty and webhook channels.
 */

import type { AlertSendResult } from "../../ports.ts";
import { errorText } from "./_redact.ts";

/** What {@linkcode postJson} needs besides the body. */
export interface PostJsonOptions {
  /** The fetch to use. */
  fetch: typeof fetch;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Aborts the request. */
  signal: AbortSignal;
  /** Removes secrets from error text. */
  redact: (text: string) => string;
}

/**
 * POSTs `body` (already JSON) to `url`. A 2xx is ok; anything else is
 * reported with the status, the first 200 characters of the answer and
 * `Retry-After`. A network error rejects, with secrets removed.
 */
export async function postJson(
  url: string,
  body: string,
  options: PostJsonOptions,
): Promise<AlertSendResult> {
  let response: Response;
  try {
    response = await options.fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json; charset=utf-8",
        "user-agent": "kpi-engine",
        ...options.headers,
      },
      body,
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal.aborted) throw options.signal.reason ?? error;
    throw new Error(options.redact(errorText(error)));
  }
  let text = "";
  try {
    text = await response.text();
  } catch {
    // the answer's body does not matter once the status is known
  }
  if (response.ok) return { ok: true, status: response.status };
  const snippet = text.trim().slice(0, 200);
  return {
    ok: false,
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    error: options.redact(
      `HTTP ${response.status}${
        response.statusText ? ` ${response.statusText}` : ""
      }${snippet ? `: ${snippet}` : ""}`,
    ),
  };
}
