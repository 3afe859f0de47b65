/**
 * A small helper shared by the server's HTML pages.
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
