/**
 * Private: what every history store does the same way around its own
 * reads and writes. A store is refused once closed, records are checked
 * and flattened into rows before a write (and nothing is written for
 * none), and a history or deliveries query is checked before it runs; the
 * kind of store only says how rows are written and read back.
 *
 * @module
 */

import type {
  AlertState,
  DeliveryRecord,
  HistoryRecord,
  KPIResult,
} from "../../types.ts";
import type { AuditLog, HistoryStoreKind } from "./_types.ts";
import {
  type AlertStateRow,
  assertOpen,
  checkHistoryQuery,
  type DeliveryRow,
  type HistoryRow,
  toAlertStateRow,
  toDeliveryRow,
  toHistoryRow,
} from "./_row.ts";

/**
 * How one kind of store writes and reads rows. It is called only while the
 * store is open, with rows already checked (never none) and queries
 * already checked; a throw becomes the caller's rejection.
 */
export interface HistoryRows {
  /** Adds history rows. */
  append(rows: readonly HistoryRow[]): void | Promise<void>;
  /** Replaces the rows of the same KPI and period with these. */
  replace(rows: readonly HistoryRow[]): void | Promise<void>;
  /** The last `n` results of a KPI, newest first. */
  history(name: string, n: number): KPIResult[] | Promise<KPIResult[]>;
  /** The state of one alert rule, or null. */
  getAlertState(
    kpi: string,
    rule: string,
  ): AlertState | null | Promise<AlertState | null>;
  /** Writes the state of one alert rule. */
  putAlertState(row: AlertStateRow): void | Promise<void>;
  /** Adds delivery rows. */
  appendDeliveries(rows: readonly DeliveryRow[]): void | Promise<void>;
  /** The last `n` delivery outcomes of a KPI, newest first. */
  deliveries(
    kpi: string,
    n: number,
  ): DeliveryRecord[] | Promise<DeliveryRecord[]>;
  /** Whether this call is the first to claim `key`. */
  claimNotice(key: string, at: string): boolean | Promise<boolean>;
  /** Returns when the store can be reached. */
  ping(): void | Promise<void>;
  /** Lets go of what the store holds; called once. */
  close(): void | Promise<void>;
}

/**
 * A history store of the given kind around its rows.
 *
 * @param kind Which kind of store it is.
 * @param location Where it is, for `location` and messages.
 * @param rows How it writes and reads rows.
 * @returns The store.
 */
export function rowHistoryStore(
  kind: HistoryStoreKind,
  location: string,
  rows: HistoryRows,
): AuditLog {
  return new RowHistoryStore(kind, location, rows);
}

class RowHistoryStore implements AuditLog {
  readonly kind: HistoryStoreKind;
  readonly location: string;
  readonly #rows: HistoryRows;
  #closed = false;

  constructor(kind: HistoryStoreKind, location: string, rows: HistoryRows) {
    this.kind = kind;
    this.location = location;
    this.#rows = rows;
  }

  async append(records: readonly HistoryRecord[]): Promise<void> {
    assertOpen(this.#closed, this.location);
    const rows = records.map(toHistoryRow);
    if (rows.length > 0) await this.#rows.append(rows);
  }

  async replace(records: readonly HistoryRecord[]): Promise<void> {
    assertOpen(this.#closed, this.location);
    const rows = records.map(toHistoryRow);
    if (rows.length > 0) await this.#rows.replace(rows);
  }

  async history(name: string, n: number): Promise<KPIResult[]> {
    assertOpen(this.#closed, this.location);
    checkHistoryQuery(name, n);
    return await this.#rows.history(name, n);
  }

  async getAlertState(kpi: string, rule: string): Promise<AlertState | null> {
    assertOpen(this.#closed, this.location);
    return await this.#rows.getAlertState(kpi, rule);
  }

  async putAlertState(state: AlertState): Promise<void> {
    assertOpen(this.#closed, this.location);
    await this.#rows.putAlertState(toAlertStateRow(state));
  }

  async appendDeliveries(records: readonly DeliveryRecord[]): Promise<void> {
    assertOpen(this.#closed, this.location);
    const rows = records.map(toDeliveryRow);
    if (rows.length > 0) await this.#rows.appendDeliveries(rows);
  }

  async deliveries(kpi: string, n: number): Promise<DeliveryRecord[]> {
    assertOpen(this.#closed, this.location);
    checkHistoryQuery(kpi, n);
    return await this.#rows.deliveries(kpi, n);
  }

  async claimNotice(key: string, at: string): Promise<boolean> {
    assertOpen(this.#closed, this.location);
    return await this.#rows.claimNotice(key, at);
  }

  async ping(): Promise<void> {
    assertOpen(this.#closed, this.location);
    await this.#rows.ping();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#rows.close();
  }
}
