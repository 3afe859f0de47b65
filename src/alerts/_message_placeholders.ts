/**
 * Private: which `{{ placeholders }}` an alert message may use, and the
 * check that finds the others, so that a misspelled one is a configuration
 * error rather than text sent as written.
 *
 * @module
 */

import { COMPARISON_CODES } from "../types.ts";
import { suggest } from "../config/_suggest.ts";
import { ALERT_TEMPLATE_VARIABLES } from "./render_alert_message.ts";

/** Plain placeholders, besides those of the comparisons. */
const PLAIN: readonly string[] = ALERT_TEMPLATE_VARIABLES;

/** What each comparison code `C` offers: `C`, `C.pct`, `C.change`, ... */
const COMPARISON_FIELDS: readonly string[] = [
  "pct",
  "change",
  "previous",
  "arrow",
];

/** Every placeholder an alert message may use. */
export const KNOWN_PLACEHOLDERS: readonly string[] = [
  ...PLAIN,
  ...COMPARISON_CODES.flatMap((code) => [
    code,
    ...COMPARISON_FIELDS.map((field) => `${code}.${field}`),
  ]),
];

/** The known placeholders, for messages. */
export const KNOWN_PLACEHOLDERS_TEXT: string = `${
  PLAIN.join(", ")
}, and for each comparison C (${
  COMPARISON_CODES.join(", ")
}): C (the percent change), ${
  COMPARISON_FIELDS.slice(1).map((field) => `C.${field}`).join(", ")
}`;

/** A `{{ ... }}` with anything inside but braces. */
const ANY_PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** Snake-case spellings of comparison figures: `mom_change_pct`, `yoy_change`. */
const SNAKE_COMPARISON =
  /^(dod|wow|mom|qoq|yoy)(?:_(change|pct|previous|arrow))?(?:_(pct|percent))?$/i;

/**
 * The placeholders of a message that are not known, each with the known one
 * it most likely means (or undefined).
 *
 * @param message An alert rule's message.
 * @returns The unknown placeholders, in order, once each.
 */
export function unknownPlaceholders(
  message: string,
): { name: string; suggestion: string | undefined }[] {
  const out = new Map<string, string | undefined>();
  for (const [, name = ""] of message.matchAll(ANY_PLACEHOLDER)) {
    if (KNOWN_PLACEHOLDERS.includes(name) || out.has(name)) continue;
    out.set(name, suggestPlaceholder(name));
  }
  return [...out].map(([name, suggestion]) => ({ name, suggestion }));
}

function suggestPlaceholder(name: string): string | undefined {
  const snake = SNAKE_COMPARISON.exec(name);
  if (snake) {
    const code = COMPARISON_CODES.find((c) =>
      c.toLowerCase() === snake[1]!.toLowerCase()
    )!;
    const field = snake[3] ? "pct" : snake[2] ?? "pct";
    return field === "pct" ? code : `${code}.${field}`;
  }
  return suggest(name, KNOWN_PLACEHOLDERS);
}
