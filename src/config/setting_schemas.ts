/**
 * The zod schemas of single settings the configuration file shares between
 * its own keys and the channel kinds' settings: non-empty strings, whole
 * numbers, URLs, booleans, email addresses. Each says what went wrong in
 * the sentence users read. Internal: the public API speaks in the
 * interfaces of `types.ts`.
 *
 * @module
 */

import { z } from "zod";
import { describe, quote } from "./_path.ts";

/**
 * A string that is not blank.
 *
 * @param key The key, as messages name it.
 * @returns The schema.
 */
export function nonEmpty(key: string): z.ZodString {
  return z.string().refine((s) => s.trim() !== "", {
    error: `"${key}" must not be empty`,
  });
}

/**
 * A whole number above zero.
 *
 * @param key The key, as messages name it.
 * @returns The schema.
 */
export function positiveInt(key: string): z.ZodNumber {
  return z.number().int().positive({
    error: (iss) =>
      `"${key}" must be a positive whole number, got ${describe(iss.input)}`,
  });
}

/**
 * An http:// or https:// URL.
 *
 * @param key The key, as messages name it.
 * @returns The schema.
 */
export function httpUrl(key: string): z.ZodString {
  return z.string().refine(
    (s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol),
    {
      error: (iss) =>
        `"${key}" must be an http(s) URL, got ${quote(iss.input)}`,
    },
  );
}

/**
 * `true` or `false`, also written as a string (as `${VAR}` expands).
 *
 * @param key The key, as messages name it.
 * @returns The schema, whose output is a boolean.
 */
export function looseBoolean(
  key: string,
): z.ZodType<boolean, boolean | "true" | "false"> {
  return z.union([
    z.boolean(),
    z.enum(["true", "false"]).transform((s) => s === "true"),
  ], {
    error: (iss) =>
      `"${key}" must be true or false, got ${describe(iss.input)}`,
  });
}

/**
 * An email address (anything with an `@`).
 *
 * @param key The key, as messages name it.
 * @returns The schema.
 */
export function emailAddress(key: string): z.ZodString {
  return z.string().refine((s) => s.includes("@"), {
    error: (iss) =>
      `"${key}" must be an email address, got ${quote(iss.input)}`,
  });
}

/**
 * An email address or a non-empty list of them.
 *
 * @param key The key, as messages name it.
 * @returns The schema.
 */
export function emailList(
  key: string,
): z.ZodType<string | string[], string | string[]> {
  return z.union([
    emailAddress(key),
    z.array(emailAddress(key)).min(1, {
      error: `"${key}" must list at least one address`,
    }),
  ], {
    error: (iss) =>
      Array.isArray(iss.input) && iss.input.length === 0
        ? `"${key}" must list at least one address`
        : `"${key}" must be an address or a list of addresses, got ${
          describe(iss.input)
        }`,
  });
}

/**
 * A port number, 1 to 65535, also written as a string of digits.
 *
 * @param key The key, as messages name it.
 * @returns The schema, whose output is a number.
 */
export function portNumber(key: string): z.ZodType<number, number | string> {
  return z.union(
    [z.number(), z.string().regex(/^\d+$/).transform(Number)],
    {
      error: (iss) =>
        `"${key}" must be a port number, got ${describe(iss.input)}`,
    },
  ).pipe(
    z.number().int().min(1).max(65535, {
      error: (iss) => `"${key}" must be from 1 to 65535, got ${iss.input}`,
    }),
  );
}
