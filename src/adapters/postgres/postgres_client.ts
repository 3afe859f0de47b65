/**
 * A {@linkcode SqlClient} over the `postgres` package (in progress).
 *
 * @module
 */

import type { SqlClient } from "../../types.ts";

/** Options of {@linkcode postgresClient}. */
export interface PostgresClientOptions {
  /** Whether `close()` ends the pool. @default false */
  owned?: boolean;
}

/**
 * Wraps a `postgres` sql instance.
 *
 * @param _sql The sql instance.
 * @param _options Ownership.
 * @returns The client.
 * @throws {Error} Always, until PostgreSQL support lands.
 */
export function postgresClient(
  _sql: unknown,
  _options: PostgresClientOptions = {},
): SqlClient {
  throw new Error("PostgreSQL support is not available yet");
}

/**
 * Opens a pool from a URL.
 *
 * @param _url The URL.
 * @param _options Pool size.
 * @returns The client.
 * @throws {Error} Always, until PostgreSQL support lands.
 */
export function openPostgresClient(
  _url: string,
  _options: { maxConnections?: number } = {},
): SqlClient {
  throw new Error("PostgreSQL support is not available yet");
}
