/**
 * Private: the senders of the built-in kinds of alert channel, which the
 * notifier builds channels with. Each kind's description is in its folder
 * (`<kind>/<kind>_kind.ts`, listed in `channel_kinds.ts`); its sender does
 * the I/O, so it is registered here, outside the core's reach.
 *
 * @module
 */

import type { ChannelSender } from "./channel_kind.ts";
import { SLACK_SENDER } from "./slack/_sender.ts";
import { EMAIL_SENDER } from "./email/_sender.ts";
import { PAGERDUTY_SENDER } from "./pagerduty/_sender.ts";
import { WEBHOOK_SENDER } from "./webhook/_sender.ts";

/** The built-in senders, by `type`. */
export const CHANNEL_SENDERS: ReadonlyMap<string, ChannelSender> = new Map(
  [SLACK_SENDER, EMAIL_SENDER, PAGERDUTY_SENDER, WEBHOOK_SENDER].map((
    sender,
  ) => [sender.kind.type, sender]),
);
