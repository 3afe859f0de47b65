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
