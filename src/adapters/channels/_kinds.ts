/**
 * Private: the built-in kinds of alert channel, each described in its own
 * folder. A new kind is a folder with its channel and its `_kind.ts`, and
 * one line here (plus its settings in the configuration schema).
 *
 * @module
 */

import type { ChannelKind } from "./_channel_kind.ts";
import { SLACK } from "./slack/_kind.ts";
import { EMAIL } from "./email/_kind.ts";
import { PAGERDUTY } from "./pagerduty/_kind.ts";
import { WEBHOOK } from "./webhook/_kind.ts";

/** The built-in kinds, by `type`. */
export const CHANNEL_KINDS: ReadonlyMap<string, ChannelKind> = new Map(
  [SLACK, EMAIL, PAGERDUTY, WEBHOOK].map((kind) => [kind.type, kind]),
);
