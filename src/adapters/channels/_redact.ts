/**
 * Keeps secrets out of error strings and logs: webhook URLs, integration
 * keys, passwords and HMAC secrets.
 */

/** A URL shown with its origin only: `https://hooks.slack.com/…`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}/…`;
  } catch {
    return "…";
  }
}

/**
 * A function that replaces every given secret (and, for URLs, their path
 * and query, and encoded spellings) in a text with `…`. Secrets shorter than
 * four characters are left alone, to keep messages readable.
 */
export function redactor(
  secrets: readonly (string | null | undefined)[],
): (text: string) => string {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== "string" || secret.length < 4) continue;
    needles.add(secret);
    needles.add(encodeURIComponent(secret));
    try {
      const url = new URL(secret);
      needles.add(url.href);
      const tail = `${url.pathname}${url.search}`;
      if (tail.length >= 4 && tail !== "/") needles.add(tail);
    } catch {
      // not a URL
    }
  }
  const ordered = [...needles].sort((a, b) => b.length - a.length);
  return (text: string): string => {
    let out = text;
    for (const needle of ordered) {
      if (needle.startsWith("http")) {
        out = out.split(needle).join(redactUrl(needle));
      } else {
        out = out.split(needle).join("…");
      }
    }
    return out;
  };
}

/** The message of an error and its causes, whatever was thrown. */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined; depth++) {
    const text = current instanceof Error
      ? current.message || current.name
      : String(current);
    if (text && !parts.includes(text)) parts.push(text);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(": ");
}
