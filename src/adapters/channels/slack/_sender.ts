import type { ChannelSender } from "../channel_kind.ts";
import { SLACK_KIND } from "./slack_kind.ts";
import { createSlackChannel } from "./create_slack_channel.ts";

/** Slack's sender: a POST to the incoming webhook. */
export const SLACK_SENDER: ChannelSender = {
  kind: SLACK_KIND,
  create: (config, { name, fetch }) =>
    createSlackChannel(config, fetch ? { name, fetch } : { name }),
};
