/**
 * Private: prepared `node:sqlite` statements kept per connection, so that a query
 * run again (a KPI on every request, a history read, a health probe) reuses
 * its statement instead of preparing a new one. `node:sqlite` has no way to
 * finalize a statement: each one holds native memory until the garbage
 * collector happens to free its small JavaScript wrapper, so preparing per
 * request lets a busy server's memory grow without bound.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";

/** Options of {@linkcode StatementCache}. */
export interface StatementCacheOptions {
  /**
   * Most statements kept; the least recently used one is dropped beyond.
   *
   * @default 256
   */
  maxEntries?: number;
}

/**
 * Prepared statements of one database, by SQL text, least recently used
 * dropped first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatabaseSync } from "node:sqlite";
 *
 * const db = new DatabaseSync(":memory:");
 * const statements = new StatementCache(db);
 * const first = statements.get("SELECT 1 AS one");
 * assert.equal(statements.get("SELECT 1 AS one"), first);
 * assert.equal(first.get()?.one, 1);
 * db.close();
 * ```
 */
export class StatementCache {
  readonly #db: DatabaseSync;
  readonly #max: number;
  readonly #statements = new Map<string, StatementSync>();

  /**
   * Creates an empty cache for one database.
   *
   * @param db The database the statements are prepared on.
   * @param options How many statements to keep.
   * @throws {RangeError} When `maxEntries` is not a whole number of at least 1.
   */
  constructor(db: DatabaseSync, options: StatementCacheOptions = {}) {
    const max = options.maxEntries ?? 256;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(
        `Invalid maxEntries ${max}: expected a whole number of at least 1`,
      );
    }
    this.#db = db;
    this.#max = max;
  }

  /**
   * The statement for `sql`, prepared on first use.
   *
   * @param sql The SQL text.
   * @returns The prepared statement (shared: set its options each time).
   */
  get(sql: string): StatementSync {
    const cached = this.#statements.get(sql);
    if (cached !== undefined) {
      this.#statements.delete(sql);
      this.#statements.set(sql, cached);
      return cached;
    }
    const statement = this.#db.prepare(sql);
    this.#statements.set(sql, statement);
    if (this.#statements.size > this.#max) {
      const oldest = this.#statements.keys().next().value as string;
      this.#statements.delete(oldest);
    }
    return statement;
  }

  /** How many statements are kept. */
  get size(): number {
    return this.#statements.size;
  }

  /** Forgets every statement (call before closing the database). */
  clear(): void {
    this.#statements.clear();
  }
}
