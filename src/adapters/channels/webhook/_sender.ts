import type { ChannelSender } from "../channel_kind.ts";
import { WEBHOOK_KIND } from "./webhook_kind.ts";
import { createWebhookChannel } from "./create_webhook_channel.ts";

/** The webhook's sender: a signed JSON POST. */
export const WEBHOOK_SENDER: ChannelSender = {
  kind: WEBHOOK_KIND,
  create: (config, { name, fetch }) =>
    createWebhookChannel(config, fetch ? { name, fetch } : { name }),
};
