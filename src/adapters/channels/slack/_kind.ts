import type { ChannelKind } from "../_channel_kind.ts";
import { createSlackChannel } from "./create_slack_channel.ts";

/** Slack: an incoming webhook (`webhook_url`, or `url`). */
export const SLACK: ChannelKind = {
  type: "slack",
  secretKeys: ["webhook_url", "url"],
  create: (config, { name, fetch }) =>
    createSlackChannel(config, fetch ? { name, fetch } : { name }),
};
