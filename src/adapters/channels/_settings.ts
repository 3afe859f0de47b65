/**
 * Reads a channel's settings in either spelling: as written in YAML
 * (`webhook_url`) or in camelCase (`webhookUrl`).
 */

import type { ChannelConfig } from "../../types.ts";

function camel(key: string): string {
  return key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The first of `keys` that is set, in snake_case or camelCase. */
export function setting(
  config: Readonly<Record<string, unknown>>,
  ...keys: string[]
): unknown {
  for (const key of keys) {
    if (config[key] !== undefined && config[key] !== null) return config[key];
    const alt = camel(key);
    if (config[alt] !== undefined && config[alt] !== null) return config[alt];
  }
  return undefined;
}

/** A required non-empty string setting. */
export function requiredString(
  config: Readonly<Record<string, unknown>>,
  name: string,
  keys: string[],
): string {
  const value = setting(config, ...keys);
  if (typeof value !== "string" || value.trim() === "") {
    const which = keys.map((k) => `"${k}"`).join(" or ");
    throw new TypeError(
      `Channel "${name}" (${
        String((config as ChannelConfig).type ?? "unknown")
      }) needs ${which}${
        value === undefined
          ? ""
          : `, got ${
            JSON.stringify(typeof value === "string" ? value : typeof value)
          }`
      }`,
    );
  }
  return value.trim();
}

/** An optional string setting. */
export function optionalString(
  config: Readonly<Record<string, unknown>>,
  ...keys: string[]
): string | undefined {
  const value = setting(config, ...keys);
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** An optional boolean setting (`true`/`false` strings accepted). */
export function optionalBoolean(
  config: Readonly<Record<string, unknown>>,
  ...keys: string[]
): boolean | undefined {
  const value = setting(config, ...keys);
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  return undefined;
}

/** Checks that a URL is http(s). */
export function httpUrl(name: string, key: string, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(
      `Channel "${name}": "${key}" is not a URL (expected http:// or https://)`,
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(
      `Channel "${name}": "${key}" must be an http:// or https:// URL, got "${parsed.protocol}"`,
    );
  }
  return url;
}
