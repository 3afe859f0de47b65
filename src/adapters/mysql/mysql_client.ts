/**
 * A {@linkcode SqlClient} over the `mysql2` package (in progress).
 *
 * @module
 */

import type { SqlClient } from "../../types.ts";

/** Options of {@linkcode mysqlClient}. */
export interface MysqlClientOptions {
  /** Whether `close()` ends the pool. @default false */
  owned?: boolean;
}

/**
 * Wraps a mysql2 pool.
 *
 * @param _pool The pool.
 * @param _options Ownership.
 * @returns The client.
 * @throws {Error} Always, until MySQL support lands.
 */
export function mysqlClient(
  _pool: unknown,
  _options: MysqlClientOptions = {},
): SqlClient {
  throw new Error("MySQL support is not available yet");
}

/**
 * Opens a pool from a URL.
 *
 * @param _url The URL.
 * @param _options Pool size.
 * @returns The client.
 * @throws {Error} Always, until MySQL support lands.
 */
export function openMysqlClient(
  _url: string,
  _options: { maxConnections?: number } = {},
): SqlClient {
  throw new Error("MySQL support is not available yet");
}
