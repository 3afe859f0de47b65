/**
 * Private: `sql.begin()` of the `postgres` package, safe when the server
 * goes away in the middle of the transaction.
 *
 * When a transaction's callback throws, `postgres` sends `ROLLBACK` on the
 * transaction's connection. If that connection has already closed (the
 * server was stopped or crashed mid-query), the package queues the write on
 * a socket it has just set to `null` and the write throws from a timer,
 * outside any promise: an uncaught `TypeError: Cannot read properties of
 * null (reading 'write')` that ends the process. This helper keeps the
 * callback from throwing once the connection is gone: the transaction's
 * own promise then rejects with the package's `CONNECTION_CLOSED` error
 * (it races the callback against the connection's close), and nothing is
 * sent on the dead connection. There is nothing to roll back on a
 * connection the server has closed.
 *
 * @module
 */

import type postgres from "postgres";

/** How long to wait for a connection that reported a fatal error to close. */
const CLOSE_WAIT_MS = 5000;

const GONE_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
  "ECONNRESET",
  "EPIPE",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
]);

/**
 * Whether an error says the connection is gone or about to go: the
 * package's connection errors, a reset socket, or a server error of
 * severity FATAL or PANIC (after which the server closes the connection).
 */
export function isConnectionGone(error: unknown): boolean {
  const e = error as { code?: unknown; severity?: unknown } | null;
  if (e === null || typeof e !== "object") return false;
  if (typeof e.code === "string" && GONE_CODES.has(e.code)) return true;
  return e.severity === "FATAL" || e.severity === "PANIC";
}

/**
 * Runs `fn` in a transaction like `sql.begin(mode, fn)`, but never lets the
 * package send `ROLLBACK` on a connection that has closed.
 *
 * @param sql The sql instance (or a reserved connection).
 * @param mode Transaction mode, e.g. `"read only"`, or `""`.
 * @param fn The transaction's body.
 * @returns What `fn` returns.
 */
export async function beginTransaction<T>(
  sql: postgres.Sql<Record<string, never>>,
  mode: string,
  fn: (tx: postgres.TransactionSql<Record<string, never>>) => Promise<T>,
): Promise<T> {
  let settled = false;
  let onSettled: () => void = () => {};
  const whenSettled = new Promise<void>((resolve) => {
    onSettled = resolve;
  });
  try {
    return await sql.begin(mode, async (tx) => {
      try {
        return await fn(tx);
      } catch (error) {
        if (!isConnectionGone(error)) throw error;
        // Wait for the connection to close: `sql.begin()` then rejects on
        // its own. Throwing now would make the package write ROLLBACK on
        // the dead connection.
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          whenSettled,
          new Promise<void>((resolve) => {
            const t = setTimeout(resolve, CLOSE_WAIT_MS);
            Deno.unrefTimer(t);
            timer = t;
          }),
        ]);
        clearTimeout(timer);
        // Still open: the socket is alive, a ROLLBACK can be written.
        if (!settled) throw error;
        // Closed: never settle; the transaction has already rejected.
        return await new Promise<never>(() => {});
      }
    }) as T;
  } finally {
    settled = true;
    onSettled();
  }
}
