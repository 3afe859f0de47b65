/**
 * The email channel: sends each alert over SMTP through nodemailer, with a
 * plain-text and an HTML part.
 *
 * @module
 */

import type * as Nodemailer from "npm:@types/nodemailer@^7";
import type { ChannelConfig } from "../../../types.ts";
import type {
  AlertChannel,
  AlertMessage,
  AlertSendResult,
} from "../../../ports.ts";
import { buildEmailContent } from "./build_email_content.ts";
import type { ChannelOptions } from "../_channel_options.ts";
import { SMTP_PORT, SMTPS_PORT } from "./email_kind.ts";
import { errorText, redactor } from "../_redact.ts";
import {
  optionalBoolean,
  optionalString,
  requiredString,
  setting,
} from "../_settings.ts";

/** SMTP error codes of nodemailer that mean "the connection failed". */
const NETWORK_CODES = new Set([
  "ECONNECTION",
  "ETIMEDOUT",
  "ESOCKET",
  "EDNS",
  "ECONNREFUSED",
  "ECONNRESET",
]);

type NodemailerModule = { default: typeof Nodemailer };
let loading: Promise<typeof Nodemailer> | undefined;

/** Loads nodemailer on first use, so importing the package needs no permissions. */
function loadNodemailer(): Promise<typeof Nodemailer> {
  loading ??= (import("nodemailer") as unknown as Promise<NodemailerModule>)
    .then((m) => m.default);
  return loading;
}

/** Options of {@linkcode createEmailChannel}. */
export interface EmailChannelOptions extends ChannelOptions {
  /**
   * Give up on a connection, greeting or silent socket after this long;
   * the notifier's per-attempt timeout also aborts a send. @default 10000
   */
  timeoutMs?: number;
}

/**
 * Creates an email channel from its settings:
 * - `smtp_host` (required) and `smtp_port` (default 465 with `secure`,
 *   else 587);
 * - `secure: true` for TLS from the first byte (port 465); otherwise
 *   `starttls: true` requires upgrading with STARTTLS, `starttls: false`
 *   never upgrades, and when absent the connection upgrades if the server
 *   offers it;
 * - `username` and `password`, for servers that need a login (optional);
 * - `from` (or `from_email`) and `to` (or `to_emails`): an address or a
 *   list (a comma-separated string is split);
 * - `tls_reject_unauthorized: false` accepts a server certificate that does
 *   not verify (TypeScript only; for test servers).
 *
 * The subject carries the severity and the KPI label (`KPI alert
 * [CRITICAL]: Revenue`); see {@linkcode buildEmailContent}. The password
 * never appears in errors.
 *
 * @param config The settings.
 * @param options The channel's name and a connection timeout.
 * @returns The channel.
 * @throws {TypeError} When the host, sender or recipients are missing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const mail = createEmailChannel({
 *   type: "email", smtp_host: "smtp.example.com", smtp_port: 587,
 *   from: "kpi@example.com", to: ["team@example.com"],
 * }, { name: "team_mail" });
 * assert.equal(mail.type, "email");
 * ```
 */
export function createEmailChannel(
  config: ChannelConfig | Record<string, unknown>,
  options: EmailChannelOptions = {},
): AlertChannel {
  // Each channel factory starts alike (name, settings read by _settings.ts,
  // secrets redacted): one contract, each kind's own settings and I/O.
  const name = options.name ?? "email";
  const host = requiredString(config, name, ["smtp_host", "host"]);
  const secure = optionalBoolean(config, "secure") ?? false;
  const starttls = optionalBoolean(config, "starttls", "use_tls");
  const rawPort = setting(config, "smtp_port", "port");
  const port = rawPort === undefined
    ? (secure ? SMTPS_PORT : SMTP_PORT)
    : Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(
      `Channel "${name}": "smtp_port" must be from 1 to 65535, got ${
        JSON.stringify(rawPort)
      }`,
    );
  }
  const from = requiredString(config, name, ["from", "from_email"]);
  const to = addresses(setting(config, "to", "to_emails"));
  if (to.length === 0) {
    throw new TypeError(
      `Channel "${name}" (email) needs "to": an address or a list of addresses`,
    );
  }
  const username = optionalString(config, "username", "user");
  const password = optionalString(config, "password", "pass");
  const rejectUnauthorized = optionalBoolean(
    config,
    "tls_reject_unauthorized",
  );
  const timeoutMs = options.timeoutMs ?? 10_000;
  const redact = redactor([password]);

  const transportOptions = {
    host,
    port,
    secure,
    requireTLS: !secure && starttls === true,
    ignoreTLS: !secure && starttls === false,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    ...(username !== undefined
      ? { auth: { user: username, pass: password ?? "" } }
      : {}),
    ...(rejectUnauthorized === false
      ? { tls: { rejectUnauthorized: false } }
      : {}),
  };

  return {
    name,
    type: "email",
    async send(
      message: AlertMessage,
      signal: AbortSignal,
    ): Promise<AlertSendResult> {
      signal.throwIfAborted();
      const content = buildEmailContent(message);
      const nodemailer = await loadNodemailer();
      const transport = nodemailer.createTransport(transportOptions);
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => {
          transport.close();
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
      });
      try {
        const info = await Promise.race([
          transport.sendMail({
            from,
            to,
            subject: content.subject,
            text: content.text,
            html: content.html,
            headers: {
              "X-KPI-Engine-Status": message.status,
              "X-KPI-Engine-Dedup-Key": message.dedupKey,
            },
          }),
          aborted,
        ]);
        return { ok: true, status: replyCode(info.response) ?? 250 };
      } catch (error) {
        if (signal.aborted) throw signal.reason ?? error;
        const code = (error as { code?: unknown }).code;
        const responseCode = (error as { responseCode?: unknown }).responseCode;
        const status = typeof responseCode === "number" ? responseCode : null;
        const network = status === null && typeof code === "string" &&
          NETWORK_CODES.has(code);
        const result: AlertSendResult = {
          ok: false,
          status,
          retryable: network ||
            (status !== null && status >= 400 && status < 500),
          error: redact(errorText(error)),
        };
        return result;
      } finally {
        if (onAbort) signal.removeEventListener("abort", onAbort);
        aborted.catch(() => {});
        transport.close();
      }
    },
    preview(message: AlertMessage): unknown {
      const content = buildEmailContent(message);
      return {
        smtp: `${host}:${port}${
          secure ? " (TLS)" : starttls === true ? " (STARTTLS)" : ""
        }`,
        from,
        to,
        subject: content.subject,
        text: content.text,
      };
    },
  };
}

function addresses(value: unknown): string[] {
  const list = Array.isArray(value)
    ? value
    : typeof value === "string"
    ? value.split(",")
    : [];
  return list.filter((v): v is string => typeof v === "string")
    .map((v) => v.trim()).filter((v) => v !== "");
}

function replyCode(response: unknown): number | null {
  if (typeof response !== "string") return null;
  const match = /^(\d{3})/.exec(response.trim());
  return match ? Number(match[1]) : null;
}
