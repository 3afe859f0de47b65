/**
 * The handle every history store returns.
 *
 * @module
 */

import type {
  DeliveryRecord,
  HistoryAndAlertStore,
  HistoryRecord,
} from "../../types.ts";

/** Which kind of store keeps the history. */
export type HistoryStoreKind = "sqlite" | "csv" | "kv" | "postgres";

/**
 * An open `audit_log`: the history of runs, the alert state and the alert
 * deliveries, in one of four kinds of store.
 */
export interface AuditLog extends HistoryAndAlertStore {
  /** Which kind of store this is. */
  readonly kind: HistoryStoreKind;
  /** Where it is: a file path, `kv::memory:`, or a URL without its password. */
  readonly location: string;
  /**
   * Replaces the rows of the same KPI and period (start and end) with these
   * records; what backfill uses, so running it twice leaves one row per
   * KPI, grain and period. SQLite and PostgreSQL do it in one transaction,
   * the CSV file by a rewrite renamed over it, Deno KV by writing the new
   * rows and then deleting the old ones.
   */
  replace(records: readonly HistoryRecord[]): Promise<void>;
  /**
   * The last `n` delivery outcomes of one KPI, newest first (by `at`, later
   * insertions first among equal instants).
   */
  deliveries(kpi: string, n: number): Promise<DeliveryRecord[]>;
  /** Resolves when the store can be reached; rejects with why it cannot. */
  ping(): Promise<void>;
}
