/**
 * Small helpers shared by the server's HTML pages.
 *
 * @module
 */

/** Escapes text for an HTML attribute or element body. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** What {@linkcode htmlHead} writes into a page's head. */
export interface HtmlHeadOptions {
  /** The page title (escaped here). */
  title: string;
  /** The CSP nonce of the inline style (escaped here). */
  nonce: string;
  /** The page's CSS, inlined as is. */
  style: string;
  /** Extra `<meta name content>` pairs (escaped here). @default none */
  meta?: Readonly<Record<string, string>>;
}

/**
 * The start of a server page, up to and including `</head>`: doctype,
 * charset, viewport, any extra meta tags, title, an empty icon and the
 * inline style.
 */
export function htmlHead(options: HtmlHeadOptions): string {
  const meta = Object.entries(options.meta ?? {}).map(([name, content]) =>
    `<meta name="${escapeHtml(name)}" content="${escapeHtml(content)}">\n`
  ).join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${meta}<title>${escapeHtml(options.title)}</title>
<link rel="icon" href="data:,">
<style nonce="${escapeHtml(options.nonce)}">${options.style}</style>
</head>
`;
}
