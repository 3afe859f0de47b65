/**
 * The webhook channel: POSTs the alert as JSON, signed with HMAC-SHA256
 * when a secret is set.
 *
 * @module
 */

import type { ChannelConfig } from "../../../types.ts";
import type {
  AlertChannel,
  AlertMessage,
  AlertSendResult,
} from "../../../ports.ts";
import { buildWebhookPayload } from "./build_webhook_payload.ts";
import type { ChannelOptions } from "../_channel_options.ts";
import { postJson } from "../_post_json.ts";
import { redactor, redactUrl } from "../_redact.ts";
import {
  httpUrl,
  optionalString,
  requiredString,
  setting,
} from "../_settings.ts";

/** The header that carries the body's signature. */
export const SIGNATURE_HEADER = "X-KPI-Signature";

/**
 * The signature of a webhook body: `sha256=` and the hex HMAC-SHA256 of the
 * raw body bytes with the secret. A receiver recomputes it over the body as
 * received and compares.
 *
 * @param body The raw body, exactly as sent.
 * @param secret The shared secret.
 * @returns `sha256=<64 hex digits>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const signature = await signWebhookBody('{"status":"firing"}', "s3cret");
 * assert.match(signature, /^sha256=[0-9a-f]{64}$/);
 * ```
 */
export async function signWebhookBody(
  body: string,
  secret: string,
): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(body));
  return `sha256=${
    Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0"))
      .join("")
  }`;
}

/**
 * Creates a webhook channel from its settings: `url` to POST to; `secret`
 * to sign each body (header {@linkcode SIGNATURE_HEADER}: `sha256=<hex
 * HMAC-SHA256 of the raw body>`); `headers`, extra request headers (e.g.
 * an authorization token). The body is {@linkcode buildWebhookPayload}'s.
 * The URL's path and query, the secret and header values never appear in
 * errors or previews.
 *
 * @param config The settings, e.g. `{ type: "webhook", url: "https://example.com/kpi", secret: "..." }`.
 * @param options The channel's name and the fetch to use.
 * @returns The channel.
 * @throws {TypeError} When `url` is missing or not http(s), or `headers` is not a map of strings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const hook = createWebhookChannel(
 *   { type: "webhook", url: "https://example.com/kpi", secret: "s3cret" },
 *   { name: "hook" },
 * );
 * assert.equal(hook.type, "webhook");
 * ```
 */
export function createWebhookChannel(
  config: ChannelConfig | Record<string, unknown>,
  options: ChannelOptions = {},
): AlertChannel {
  // Each channel factory starts alike (name, settings read by _settings.ts,
  // secrets redacted): one contract, each kind's own settings and I/O.
  const name = options.name ?? "webhook";
  const url = httpUrl(name, "url", requiredString(config, name, ["url"]));
  const secret = optionalString(config, "secret");
  const rawHeaders = setting(config, "headers") ?? {};
  if (
    typeof rawHeaders !== "object" || rawHeaders === null ||
    Array.isArray(rawHeaders) ||
    Object.values(rawHeaders).some((v) => typeof v !== "string")
  ) {
    throw new TypeError(
      `Channel "${name}": "headers" must map header names to strings`,
    );
  }
  const headers = rawHeaders as Record<string, string>;
  const redact = redactor([url, secret, ...Object.values(headers)]);
  const doFetch = options.fetch ?? globalThis.fetch;
  return {
    name,
    type: "webhook",
    async send(
      message: AlertMessage,
      signal: AbortSignal,
    ): Promise<AlertSendResult> {
      const body = JSON.stringify(buildWebhookPayload(message));
      const sent: Record<string, string> = { ...headers };
      if (secret !== undefined) {
        sent[SIGNATURE_HEADER] = await signWebhookBody(body, secret);
      }
      return postJson(url, body, {
        fetch: doFetch,
        headers: sent,
        signal,
        redact,
      });
    },
    preview(message: AlertMessage): unknown {
      return {
        url: redactUrl(url),
        signed: secret !== undefined,
        body: buildWebhookPayload(message),
      };
    },
  };
}
