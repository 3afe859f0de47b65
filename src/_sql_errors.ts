/**
 * Private: errors the SQL adapters throw so the core can tell a query that
 * ran out of time or a database that could not be reached from a query
 * that failed (only the latter is worth re-running in smaller pieces).
 *
 * @module
 */

/** A query canceled because it ran longer than its timeout. */
export class SqlTimeoutError extends Error {
  /** Wraps the reason; `cause` keeps the driver's error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SqlTimeoutError";
  }
}

/** A database that could not be reached or refused the login. */
export class SqlConnectionError extends Error {
  /** Wraps the reason; `cause` keeps the driver's error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SqlConnectionError";
  }
}

/** Whether re-running the same SQL in smaller pieces cannot help. */
export function isFinalSqlError(error: unknown): boolean {
  return error instanceof Error &&
    (error.name === "SqlTimeoutError" || error.name === "SqlConnectionError");
}
