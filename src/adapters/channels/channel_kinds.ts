/**
 * The built-in kinds of alert channel, each described once in its own
 * folder. Pure: the configuration's schema, checks and loader read this
 * list, so the core may import it; the senders are registered in
 * `_senders.ts`. A new kind is a folder with its `<kind>_kind.ts` and its
 * sender, and one line here and in `_senders.ts`.
 *
 * @module
 */

import type { ChannelKind } from "./channel_kind.ts";
import { SLACK_KIND } from "./slack/slack_kind.ts";
import { EMAIL_KIND } from "./email/email_kind.ts";
import { PAGERDUTY_KIND } from "./pagerduty/pagerduty_kind.ts";
import { WEBHOOK_KIND } from "./webhook/webhook_kind.ts";

/** The built-in kinds, in the order messages list them. */
export const CHANNEL_KINDS: readonly ChannelKind[] = [
  SLACK_KIND,
  EMAIL_KIND,
  PAGERDUTY_KIND,
  WEBHOOK_KIND,
];

/** The `type` of each built-in kind. */
export const CHANNEL_TYPES: readonly string[] = CHANNEL_KINDS.map((kind) =>
  kind.type
);

/**
 * The kind of a `type`, or undefined when none is built in.
 *
 * @param type The `type` written in YAML.
 * @returns The kind.
 */
export function channelKind(type: unknown): ChannelKind | undefined {
  return CHANNEL_KINDS.find((kind) => kind.type === type);
}
