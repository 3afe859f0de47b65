import type { ChannelSender } from "../channel_kind.ts";
import { PAGERDUTY_KIND } from "./pagerduty_kind.ts";
import { createPagerDutyChannel } from "./create_pagerduty_channel.ts";

/** PagerDuty's sender: a POST to the Events API v2. */
export const PAGERDUTY_SENDER: ChannelSender = {
  kind: PAGERDUTY_KIND,
  create: (config, { name, fetch }) =>
    createPagerDutyChannel(config, fetch ? { name, fetch } : { name }),
};
