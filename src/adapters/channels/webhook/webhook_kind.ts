/**
 * The webhook channel kind: its settings, their meaning and its JSON body.
 * Pure: the sender (which signs the body) is `create_webhook_channel.ts`.
 *
 * @module
 */

import { z } from "zod";
import { httpUrl } from "../../../config/setting_schemas.ts";
import { type ChannelKind, resolveAliases } from "../channel_kind.ts";
import { buildWebhookPayload } from "./build_webhook_payload.ts";

// Every kind's file has this form (a ChannelKind: its settings, what they
// mean, what is required): the likeness between the kinds is the
// description's shape, not shared logic; each kind's settings are its own.
const settings = z.strictObject({
  type: z.literal("webhook"),
  url: httpUrl("url"),
  secret: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
});

/** A webhook: a signed JSON POST to `url`. */
export const WEBHOOK_KIND: ChannelKind = {
  type: "webhook",
  settings,
  descriptions: {
    type: "An HTTP POST of the alert as JSON.",
    url: "The URL the alert's JSON is posted to.",
    secret:
      "Signs each body: header X-KPI-Signature: sha256=<hex HMAC-SHA256 of the body>.",
    headers: "Extra request headers, by name.",
    "headers.*": "A header's value.",
  },
  required: [],
  aliases: {},
  defaults: {},
  secretKeys: ["url", "secret"],
  toConfig: (data) => resolveAliases(WEBHOOK_KIND, data),
  buildPayload: (message) => buildWebhookPayload(message),
};
