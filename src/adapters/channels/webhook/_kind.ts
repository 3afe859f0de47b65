import type { ChannelKind } from "../_channel_kind.ts";
import { createWebhookChannel } from "./create_webhook_channel.ts";

/** A webhook: a signed JSON POST to `url`. */
export const WEBHOOK: ChannelKind = {
  type: "webhook",
  secretKeys: ["url", "secret"],
  create: (config, { name, fetch }) =>
    createWebhookChannel(config, fetch ? { name, fetch } : { name }),
};
