/**
 * How a kind of alert channel is described, once, in its own folder
 * (`slack/`, `email/`, ...): the pure part that the configuration's
 * schema, checks and loader read ({@linkcode ChannelKind}), and the sender
 * the notifier registers beside it ({@linkcode ChannelSender}). The pure
 * part loads no driver, so the core may import it.
 *
 * @module
 */

import type { z } from "zod";
import type { AlertChannel, AlertMessage } from "../../ports.ts";
import type { ChannelConfig } from "../../types.ts";

/** A setting a channel needs, under its name or another one. */
export interface RequiredChannelSetting {
  /** The setting's key, where a missing one is reported. */
  key: string;
  /** The other key accepted in its place. */
  alternative: string;
  /** What the setting is, for the message. */
  what: string;
  /**
   * Whether both keys may be given (the other key then means something
   * of its own). @default false
   */
  both?: boolean;
}

/** A channel's settings as the configuration schema has read them. */
export type ChannelSettingsData = { type: string } & Record<string, unknown>;

/** One kind of alert channel: what the configuration knows of it. */
export interface ChannelKind {
  /** The `type` written in YAML, e.g. `slack`. */
  readonly type: string;
  /**
   * The settings as written in the file (snake_case), a strict zod object
   * whose `type` is the literal {@linkcode ChannelKind.type}.
   */
  readonly settings: z.ZodObject;
  /**
   * What each key means, by its path below the channel (`type`, `to`,
   * `headers.*`), as editors show it from the JSON Schema.
   */
  readonly descriptions: Readonly<Record<string, string>>;
  /** Settings that must be given, under one of two names. */
  readonly required: readonly RequiredChannelSetting[];
  /** Other names of a setting: alias → the key it stands for. */
  readonly aliases: Readonly<Record<string, string>>;
  /** The values of settings left out. */
  readonly defaults: Readonly<Record<string, unknown>>;
  /**
   * Settings whose values are secrets, kept out of logs and errors (the
   * values of a `headers` map are secrets for every kind).
   */
  readonly secretKeys: readonly string[];
  /** The validated settings as the engine keeps them (aliases resolved). */
  toConfig(data: ChannelSettingsData): ChannelConfig;
  /** The body the channel sends for one notice (pure). */
  buildPayload(message: AlertMessage, config: ChannelConfig): unknown;
}

/** What building a channel may use besides its settings. */
export interface ChannelBuildOptions {
  /** The channel's name under `channels:`. */
  name: string;
  /** The fetch HTTP channels use. */
  fetch?: typeof fetch;
  /** How long one attempt may take, for channels that need to know. */
  timeoutMs: number;
}

/** A kind of channel with the sender the adapters build from it. */
export interface ChannelSender {
  /** The kind's description. */
  readonly kind: ChannelKind;
  /** Builds the channel from its settings; throws TypeError when incomplete. */
  create(config: ChannelConfig, options: ChannelBuildOptions): AlertChannel;
}

/**
 * The settings in the engine's form: each key of the kind's settings in
 * their order, but the aliases, taking an alias's value where the key
 * itself is not given.
 *
 * @param kind The kind, for its settings and aliases.
 * @param data The validated settings.
 * @returns The settings, `type` first, undefined values left out.
 */
export function resolveAliases(
  kind: Pick<ChannelKind, "settings" | "aliases">,
  data: ChannelSettingsData,
): ChannelConfig {
  const out: ChannelConfig = { type: data.type as ChannelConfig["type"] };
  const aliasOf = new Map(
    Object.entries(kind.aliases).map(([alias, key]) => [key, alias]),
  );
  for (const key of Object.keys(kind.settings.shape)) {
    if (key === "type" || Object.hasOwn(kind.aliases, key)) continue;
    const alias = aliasOf.get(key);
    const value = data[key] ?? (alias === undefined ? undefined : data[alias]);
    if (value !== undefined) out[key] = value;
  }
  return out;
}
