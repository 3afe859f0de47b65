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
  const smtp = readSmtpSettings(config, name, options.timeoutMs ?? 10_000);
  const redact = redactor([smtp.password]);
  return {
    name,
    type: "email",
    send: (message, signal) => sendMail(smtp, message, signal, redact),
    preview(message: AlertMessage): unknown {
      const content = buildEmailContent(message);
      return {
        smtp: `${smtp.host}:${smtp.port}${
          smtp.secure ? " (TLS)" : smtp.starttls === true ? " (STARTTLS)" : ""
        }`,
        from: smtp.from,
        to: smtp.to,
        subject: content.subject,
        text: content.text,
      };
    },
  };
}

/** An email channel's settings, read and checked. */
interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  starttls: boolean | undefined;
  from: string;
  to: string[];
  username: string | undefined;
  password: string | undefined;
  rejectUnauthorized: boolean | undefined;
  timeoutMs: number;
}

/** Reads the settings, in either spelling, with their defaults. */
function readSmtpSettings(
  config: Readonly<Record<string, unknown>>,
  name: string,
  timeoutMs: number,
): SmtpSettings {
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
  return {
    host,
    port,
    secure,
    starttls,
    from,
    to,
    username: optionalString(config, "username", "user"),
    password: optionalString(config, "password", "pass"),
    rejectUnauthorized: optionalBoolean(config, "tls_reject_unauthorized"),
    timeoutMs,
  };
}

/** nodemailer's transport options for the settings. */
function transportOptions(smtp: SmtpSettings): Record<string, unknown> {
  const { secure, starttls, timeoutMs } = smtp;
  return {
    host: smtp.host,
    port: smtp.port,
    secure,
    requireTLS: !secure && starttls === true,
    ignoreTLS: !secure && starttls === false,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    ...(smtp.username !== undefined
      ? { auth: { user: smtp.username, pass: smtp.password ?? "" } }
      : {}),
    ...(smtp.rejectUnauthorized === false
      ? { tls: { rejectUnauthorized: false } }
      : {}),
  };
}

/**
 * Sends one notice over a new SMTP connection, closed when done or when
 * `signal` aborts; a failure is a result (retryable for network errors and
 * 4xx replies), never a throw, but for the abort itself.
 */
async function sendMail(
  smtp: SmtpSettings,
  message: AlertMessage,
  signal: AbortSignal,
  redact: (text: string) => string,
): Promise<AlertSendResult> {
  signal.throwIfAborted();
  const content = buildEmailContent(message);
  const nodemailer = await loadNodemailer();
  const transport = nodemailer.createTransport(transportOptions(smtp));
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
        from: smtp.from,
        to: smtp.to,
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
    return {
      ok: false,
      status,
      retryable: network || (status !== null && status >= 400 && status < 500),
      error: redact(errorText(error)),
    };
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
    aborted.catch(() => {});
    transport.close();
  }
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
