import type { ChannelKind } from "../_channel_kind.ts";
import { createPagerDutyChannel } from "./create_pagerduty_channel.ts";

/** PagerDuty: Events API v2 (`integration_key`, or `routing_key`). */
export const PAGERDUTY: ChannelKind = {
  type: "pagerduty",
  secretKeys: ["integration_key", "routing_key", "url"],
  create: (config, { name, fetch }) =>
    createPagerDutyChannel(config, fetch ? { name, fetch } : { name }),
};
