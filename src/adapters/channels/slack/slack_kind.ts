/**
 * The Slack channel kind: its settings, their meaning and its message body.
 * Pure: the sender is `create_slack_channel.ts`.
 *
 * @module
 */

import { z } from "zod";
import { httpUrl } from "../../../config/setting_schemas.ts";
import type { ChannelConfig } from "../../../types.ts";
import type { ChannelKind } from "../channel_kind.ts";
import { buildSlackPayload } from "./build_slack_payload.ts";

// Every kind's file has this form (a ChannelKind: its settings, what they
// mean, what is required): the likeness between the kinds is the
// description's shape, not shared logic; each kind's settings are its own.
const settings = z.strictObject({
  type: z.literal("slack"),
  webhook_url: httpUrl("webhook_url").optional(),
  url: httpUrl("url").optional(),
});

/** Slack: an incoming webhook (`webhook_url`, or `url`). */
export const SLACK_KIND: ChannelKind = {
  type: "slack",
  settings,
  descriptions: {
    type: "A Slack incoming webhook.",
    webhook_url: 'The Slack incoming webhook URL, e.g. "${SLACK_WEBHOOK_URL}".',
    url:
      "The endpoint actually posted to, when it differs from webhook_url (a proxy).",
  },
  required: [{
    key: "webhook_url",
    alternative: "url",
    what: "a slack channel posts to an incoming webhook",
    both: true,
  }],
  aliases: {},
  defaults: {},
  secretKeys: ["webhook_url", "url"],
  toConfig(data) {
    // `url` is where the POST goes, so it is the webhook the engine keeps.
    const config: ChannelConfig = { type: "slack" };
    const webhookUrl = data.url ?? data.webhook_url;
    if (webhookUrl !== undefined) config.webhook_url = webhookUrl;
    if (data.url !== undefined) config.url = data.url;
    return config;
  },
  buildPayload: (message) => buildSlackPayload(message),
};
