/**
 * The email channel kind: its settings, their meaning, defaults and the
 * message's subject and parts. Pure: the sender (SMTP through nodemailer)
 * is `create_email_channel.ts`.
 *
 * @module
 */

import { z } from "zod";
import {
  emailAddress,
  emailList,
  looseBoolean,
  nonEmpty,
  portNumber,
} from "../../../config/setting_schemas.ts";
import { type ChannelKind, resolveAliases } from "../channel_kind.ts";
import { buildEmailContent } from "./build_email_content.ts";

/** The SMTP port without `secure`: submission, upgraded with STARTTLS. */
export const SMTP_PORT = 587;
/** The SMTP port with `secure`: TLS from the first byte. */
export const SMTPS_PORT = 465;

// Every kind's file has this form (a ChannelKind: its settings, what they
// mean, what is required): the likeness between the kinds is the
// description's shape, not shared logic; each kind's settings are its own.
const settings = z.strictObject({
  type: z.literal("email"),
  smtp_host: nonEmpty("smtp_host"),
  smtp_port: portNumber("smtp_port").optional(),
  from: emailAddress("from").optional(),
  from_email: emailAddress("from_email").optional(),
  to: emailList("to").optional(),
  to_emails: emailList("to_emails").optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  secure: looseBoolean("secure").optional(),
  starttls: looseBoolean("starttls").optional(),
  tls_reject_unauthorized: looseBoolean("tls_reject_unauthorized").optional(),
});

/** Email over SMTP. */
export const EMAIL_KIND: ChannelKind = {
  type: "email",
  settings,
  descriptions: {
    type: "Email over SMTP.",
    smtp_host: "The SMTP server's host name.",
    smtp_port: "The SMTP server's port. Default 465 with secure, else 587.",
    from: "The sender's address.",
    from_email: "Another name for from.",
    to: "The recipients: an address, a comma-separated list, or a list.",
    to_emails: "Another name for to.",
    username: 'SMTP user name, e.g. "${SMTP_USER}".',
    password:
      'SMTP password; write "${SMTP_PASSWORD}" to keep it out of the file.',
    secure: "Use TLS from the start of the connection (port 465).",
    starttls:
      "true requires upgrading to TLS with STARTTLS, false never upgrades; when absent the connection upgrades if the server offers it.",
    tls_reject_unauthorized:
      "false accepts a server certificate that does not verify (for test servers). Default true.",
  },
  required: [
    { key: "from", alternative: "from_email", what: "the sender's address" },
    { key: "to", alternative: "to_emails", what: "the recipients" },
  ],
  aliases: { from_email: "from", to_emails: "to" },
  defaults: { smtp_port: SMTP_PORT, secure: false },
  secretKeys: ["password"],
  toConfig(data) {
    const config = resolveAliases(EMAIL_KIND, data);
    const to = (config.to ?? []) as string | string[];
    config.to = (Array.isArray(to) ? to : to.split(","))
      .map((s) => s.trim()).filter((s) => s !== "");
    return config;
  },
  buildPayload: (message) => buildEmailContent(message),
};
