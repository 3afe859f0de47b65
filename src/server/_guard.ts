/**
 * The server's guards: security headers (Hono's `secureHeaders`, with a
 * fresh CSP nonce per response for the pages' inline script and style) and
 * the bearer token check.
 *
 * The token check is our own rather than Hono's `bearerAuth`: that one
 * answers 400 to a header it finds malformed and accepts only RFC 6750
 * token characters, which would lock out a `KPI_API_TOKEN` such as
 * `s3cret!`; here any token works, every failure is a JSON 401, and `/`
 * and `/docs` are still sent (with 401) so that they can ask for it.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { NONCE, secureHeaders } from "hono/secure-headers";

/** Routes anyone may call. */
const PUBLIC_PATHS = new Set(["/health", "/schema/kpis.json"]);
/**
 * Pages that hold no data: without the token they are still sent, with
 * status 401, so a browser shows them and they ask for the token (kept in
 * sessionStorage) before calling the API.
 */
const PAGE_PATHS = new Set(["/", "/docs"]);
const encoder = new TextEncoder();

/**
 * Hono's `secureHeaders` with the policy the pages need: nothing loads but
 * the page itself, its inline script and style carry the per-response
 * nonce (`c.get("secureHeadersNonce")`), fetches go to the same origin.
 */
export function securityHeaders(): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: [NONCE],
      styleSrc: [NONCE],
      connectSrc: ["'self'"],
      imgSrc: ["'self'", "data:"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
    },
    // Served over plain HTTP on 127.0.0.1 as often as behind TLS.
    strictTransportSecurity: false,
  });
}

/** The nonce `securityHeaders()` put in this response's CSP. */
export function pageNonce(c: Context): string {
  return (c.get("secureHeadersNonce" as never) as string | undefined) ?? "";
}

/** Whether the request carries the token (always, when none is set). */
export function isAuthorized(c: Context, token: string | null): boolean {
  if (token === null) return true;
  const given = bearerToken(c.req.header("authorization"));
  return given !== null && sameSecret(given, encoder.encode(token));
}

/**
 * Requires `Authorization: Bearer <token>` on every route but `/health`
 * and `/schema/kpis.json`;
 * `/` and `/docs` are answered with 401 but still sent. Without a token,
 * lets everything through.
 */
export function requireToken(token: string | null): MiddlewareHandler {
  return async (c, next) => {
    if (token === null || PUBLIC_PATHS.has(c.req.path)) return await next();
    if (isAuthorized(c, token)) return await next();
    c.header("www-authenticate", 'Bearer realm="kpi-engine"');
    if (PAGE_PATHS.has(c.req.path)) {
      await next();
      c.res = new Response(c.res.body, { status: 401, headers: c.res.headers });
      return;
    }
    const missing = bearerToken(c.req.header("authorization")) === null;
    return c.json({
      error: missing
        ? "Missing bearer token: send Authorization: Bearer <token>"
        : "Invalid bearer token",
    }, 401);
  };
}

/** Compares a given secret with the expected one in time independent of where they differ. */
function sameSecret(given: string, expected: Uint8Array): boolean {
  const bytes = encoder.encode(given);
  let diff = bytes.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) {
    diff |= (bytes[i] ?? 0) ^ (expected[i] ?? 0);
  }
  return diff === 0;
}

function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}
