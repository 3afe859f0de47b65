/**
 * Private: how the notifier knows a kind of channel. Each channel folder
 * (slack/, email/, pagerduty/, webhook/) describes its kind once in its
 * `_kind.ts`: the `type` written in YAML, which settings are secrets, and
 * how to build the channel from its settings. The notifier reads only
 * these descriptions (see `_kinds.ts`).
 *
 * @module
 */

import type { AlertChannel } from "../../ports.ts";
import type { ChannelConfig } from "../../types.ts";

/** What building a channel may use besides its settings. */
export interface ChannelBuildOptions {
  /** The channel's name under `channels:`. */
  name: string;
  /** The fetch HTTP channels use. */
  fetch?: typeof fetch;
  /** How long one attempt may take, for channels that need to know. */
  timeoutMs: number;
}

/** One kind of alert channel. */
export interface ChannelKind {
  /** The `type` written in YAML, e.g. `slack`. */
  readonly type: string;
  /**
   * Settings whose values are secrets, kept out of logs and errors (the
   * values of a `headers` map are secrets for every kind).
   */
  readonly secretKeys: readonly string[];
  /** Builds the channel from its settings; throws TypeError when incomplete. */
  create(config: ChannelConfig, options: ChannelBuildOptions): AlertChannel;
}
