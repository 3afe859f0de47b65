/**
 * Private: finds where a quoted YAML string that is never closed opens. The
 * `yaml` package reports a missing closing quote where the file ends, which
 * is seldom where the mistake is.
 *
 * @module
 */

import { Parser } from "yaml";

/**
 * The offset of the quote that opens the string running up to `errorOffset`,
 * or null when there is none.
 *
 * @param source The YAML text.
 * @param errorOffset Where the parser noticed the missing quote.
 * @returns The offset of the opening quote, or null.
 */
export function unclosedQuoteOffset(
  source: string,
  errorOffset: number,
): number | null {
  let found: number | null = null;
  for (const token of new Parser().parse(source)) {
    for (const node of walk(token)) {
      if (
        (node.type === "double-quoted-scalar" ||
          node.type === "single-quoted-scalar") &&
        typeof node.offset === "number" && typeof node.source === "string" &&
        node.offset <= errorOffset &&
        node.offset + node.source.length >= errorOffset
      ) {
        found = node.offset;
      }
    }
  }
  return found;
}

function* walk(node: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(node)) {
    for (const item of node) yield* walk(item);
    return;
  }
  if (node !== null && typeof node === "object") {
    const record = node as Record<string, unknown>;
    if (typeof record.type === "string") yield record;
    for (const value of Object.values(record)) {
      if (value !== null && typeof value === "object") yield* walk(value);
    }
  }
}
