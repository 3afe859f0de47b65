/**
 * Private: errors the SQL adapters throw so the core can tell a query that
 * ran out of time or a database that could not be reached from a query
 * that failed (only the latter is worth re-running in smaller pieces).
 *
 * @module
 */

import { SqlConnectionError, SqlTimeoutError } from "../ports.ts";

export { SqlConnectionError, SqlTimeoutError };

/** Names a server for messages: `PostgreSQL at db.example.com:5432, database "shop"`. */
export function describeServer(
  product: string,
  where: { host: string; port: string; database: string },
): string {
  const database = where.database === ""
    ? ""
    : `, database "${where.database}"`;
  return `${product} at ${where.host}:${where.port}${database}`;
}

/**
 * Removes a password from a message: the password itself where known, and
 * the secret part of any `scheme://user:secret@host` URL.
 */
export function hidePassword(
  message: string,
  password: string | undefined,
): string {
  let out = message.replace(
    /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi,
    "$1***@",
  );
  if (password !== undefined && password.length > 0) {
    out = out.split(password).join("***");
  }
  return out;
}

/** Driver codes of a connection that was open and went away. */
const LOST_CODES = new Set([
  "CONNECTION_CLOSED",
  "PROTOCOL_CONNECTION_LOST",
  "ECONNRESET",
  "EPIPE",
  "57P01",
  "57P02",
]);

/** Driver codes of a connection that did not open in time. */
const CONNECT_TIMEOUT_CODES = new Set(["CONNECT_TIMEOUT", "ETIMEDOUT"]);

/**
 * Codes Node's network layer gives a server that cannot be reached, which
 * the drivers built on it pass on as they are.
 */
export const NETWORK_CODES: readonly string[] = [
  "ECONNREFUSED",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ECONNRESET",
  "EAI_AGAIN",
];

/** What a query's failure is reported against. */
export interface QueryErrorContext {
  /** The server, as {@linkcode describeServer} names it. */
  server: string;
  /** The password to hide from messages, if any. */
  password: string | undefined;
  /** The query's timeout, for the message of a canceled query. */
  timeoutMs: number | undefined;
}

/** How one driver's errors say what went wrong. */
export interface DriverErrorReading {
  /** Whether the driver's error says the query ran out of time. */
  isTimeout: (error: { code?: string; errno?: number }) => boolean;
  /** Whether the driver's error says the server could not be reached. */
  isConnection: (error: { code?: string; errno?: number }) => boolean;
}

/** What a driver error is to be read against. */
export interface DriverErrorContext
  extends QueryErrorContext, DriverErrorReading {}

/**
 * The translation of one driver's errors, for its client to call with each
 * query's context.
 *
 * @param reading How the driver's errors say what went wrong.
 * @returns A function like {@linkcode translateDriverError}.
 */
export function driverErrorTranslator(
  reading: DriverErrorReading,
): (error: unknown, context: QueryErrorContext) => Error {
  return (error, context) =>
    translateDriverError(error, { ...context, ...reading });
}

/**
 * Turns a driver's error into one the core understands: a
 * {@linkcode SqlTimeoutError}, a {@linkcode SqlConnectionError} naming the
 * server, or the error itself, always with the password removed.
 */
export function translateDriverError(
  error: unknown,
  context: DriverErrorContext,
): Error {
  const e = error as { code?: string; errno?: number; message?: string };
  const message = hidePassword(
    String(e?.message ?? error),
    context.password,
  );
  if (e && context.isTimeout(e)) {
    return new SqlTimeoutError(
      context.timeoutMs !== undefined
        ? `Query canceled after ${context.timeoutMs} ms (timeout_ms): ${message}`
        : message,
      { cause: error },
    );
  }
  if (e && context.isConnection(e)) {
    return new SqlConnectionError(
      LOST_CODES.has(String(e.code))
        ? `Lost the connection to ${context.server}: ${message}`
        : CONNECT_TIMEOUT_CODES.has(String(e.code))
        ? `Cannot connect to ${context.server} within connect_timeout_ms: ${message}`
        : `Cannot connect to ${context.server}: ${message}`,
      { cause: error },
    );
  }
  return error instanceof Error && message === error.message
    ? error
    : new Error(message, { cause: error });
}
