/**
 * The Deno KV history store, for a local `kv:PATH` file, `:memory:`, or the
 * platform's KV on Deno Deploy. Keys are tuples that sort newest last, so
 * the newest results of a KPI are one reverse `list()`:
 *
 * - `["kpi-history", name, runAt, seq]` → the result's row
 * - `["kpi-history-part", name, runAt, seq, i]` → pieces of a row too big
 *   for one value (64 KiB)
 * - `["kpi-alert-state", kpi, rule]` → the alert state
 * - `["kpi-alert-delivery", kpi, at, seq]` → one delivery outcome
 * - `["kpi-meta", "schema_version"]`, `["kpi-meta", "seq"]`
 *
 * `runAt` is a UTC ISO instant (it sorts as text); `seq` is a counter kept
 * with a compare-and-set, so results of one instant keep insertion order
 * even across processes. Writes go in atomic operations of at most ten
 * mutations. `replace` (what backfill uses) finds the rows of the same KPI
 * and period, writes the new rows, then deletes the old ones: a crash in
 * between leaves both, and readers by grain take the one recorded last.
 *
 * @module
 */

import type { AlertState, DeliveryRecord, KPIResult } from "../../../types.ts";
import type { AuditLog } from "../_types.ts";
import {
  type AlertStateRow,
  type DeliveryRow,
  fromAlertStateRow,
  fromDeliveryRow,
  fromHistoryRow,
  HISTORY_SCHEMA_VERSION,
  type HistoryRow,
} from "../_row.ts";
import { type HistoryRows, rowHistoryStore } from "../_row_store.ts";
import { claimCutoff, claimedBefore } from "../_claims.ts";

/** Options of {@linkcode openKvHistoryStore}. */
export interface KvHistoryStoreOptions {
  /** Whether `close()` also closes the KV handle. @default false */
  closeKv?: boolean;
  /** How the store names itself in messages and `location`. @default "kv:" */
  location?: string;
}

const HISTORY = "kpi-history";
const PART = "kpi-history-part";
const STATE = "kpi-alert-state";
const DELIVERY = "kpi-alert-delivery";
const CLAIM = "kpi-alert-claim";
const META = "kpi-meta";
const VERSION_KEY: Deno.KvKey = [META, "schema_version"];
const SEQ_KEY: Deno.KvKey = [META, "seq"];

/** Most mutations in one atomic operation (Deno Deploy's old limit). */
const MUTATIONS_PER_ATOMIC = 10;
/** Rows whose JSON is longer than this are stored in pieces. */
const INLINE_BYTES = 30_000;
/** Size of one piece of a large row. */
const PART_BYTES = 60_000;

/** What a history key holds. */
interface HistoryValue {
  v: number;
  row?: HistoryRow;
  parts?: number;
  /** With `parts`: the row's period start and end, read without the parts. */
  period?: [string | null, string | null];
}

/**
 * Opens a history store on a Deno KV handle. The handle stays the caller's
 * unless `closeKv` is set.
 *
 * @param kv An open KV, e.g. from `Deno.openKv(":memory:")`.
 * @param options Whether to close it, and how to name it.
 * @returns The open store.
 * @throws {RangeError} When the KV holds history of a newer schema version.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const store = await openKvHistoryStore(await Deno.openKv(":memory:"), {
 *   closeKv: true,
 * });
 * assert.equal(store.kind, "kv");
 * assert.deepEqual(await store.history("revenue", 3), []);
 * await store.close();
 * ```
 */
export async function openKvHistoryStore(
  kv: Deno.Kv,
  options: KvHistoryStoreOptions = {},
): Promise<AuditLog> {
  const location = options.location ?? "kv:";
  for (let attempt = 0;; attempt++) {
    const seen = await whileLocked(() => kv.get<number>(VERSION_KEY));
    if (seen.value !== null) {
      if (!(seen.value <= HISTORY_SCHEMA_VERSION)) {
        if (options.closeKv) kv.close();
        throw new RangeError(
          `Cannot read history "${location}" of schema version ${seen.value}: this kpi-engine reads versions up to ${HISTORY_SCHEMA_VERSION}; upgrade kpi-engine`,
        );
      }
      break;
    }
    const done = await whileLocked(() =>
      kv.atomic().check(seen).set(VERSION_KEY, HISTORY_SCHEMA_VERSION).commit()
    );
    if (done.ok || attempt > 20) break;
  }
  return rowHistoryStore(
    "kv",
    location,
    new KvRows(kv, location, options.closeKv ?? false),
  );
}

/** How the KV store writes and reads rows. */
class KvRows implements HistoryRows {
  readonly location: string;
  readonly #kv: Deno.Kv;
  readonly #closeKv: boolean;

  constructor(kv: Deno.Kv, location: string, closeKv: boolean) {
    this.#kv = kv;
    this.location = location;
    this.#closeKv = closeKv;
  }

  async append(rows: readonly HistoryRow[]): Promise<void> {
    const first = await reserve(this.#kv, rows.length);
    const heads: [Deno.KvKey, HistoryValue][] = [];
    const parts: [Deno.KvKey, Uint8Array][] = [];
    const encoder = new TextEncoder();
    rows.forEach((row, i) => {
      const seq = first + i;
      const key = [HISTORY, row.kpi_name, row.run_at, seq];
      const bytes = encoder.encode(JSON.stringify(row));
      if (bytes.length <= INLINE_BYTES) {
        heads.push([key, { v: HISTORY_SCHEMA_VERSION, row }]);
        return;
      }
      const count = Math.ceil(bytes.length / PART_BYTES);
      for (let p = 0; p < count; p++) {
        parts.push([
          [PART, row.kpi_name, row.run_at, seq, p],
          bytes.slice(p * PART_BYTES, (p + 1) * PART_BYTES),
        ]);
      }
      heads.push([key, {
        v: HISTORY_SCHEMA_VERSION,
        parts: count,
        period: [row.period_start, row.period_end],
      }]);
    });
    // Pieces first: a head is only listed once all its pieces exist.
    await setInChunks(this.#kv, parts);
    await setInChunks(this.#kv, heads);
  }

  async replace(rows: readonly HistoryRow[]): Promise<void> {
    const periods = new Map<string, Set<string>>();
    for (const row of rows) {
      const wanted = periods.get(row.kpi_name) ?? new Set<string>();
      wanted.add(JSON.stringify([row.period_start, row.period_end]));
      periods.set(row.kpi_name, wanted);
    }
    // The old rows are found before the new ones exist.
    const stale: Deno.KvKey[] = [];
    const stalePieces: Deno.KvKey[] = [];
    for (const [name, wanted] of periods) {
      const entries = await whileLocked(() =>
        Array.fromAsync(
          this.#kv.list<HistoryValue>({ prefix: [HISTORY, name] }),
        )
      );
      for (const entry of entries) {
        const value = entry.value;
        const period = value.row
          ? [value.row.period_start, value.row.period_end]
          : value.period ?? await this.#readParts(entry.key, value.parts ?? 0)
            .then((row) => [row.period_start, row.period_end]);
        if (!wanted.has(JSON.stringify(period))) continue;
        stale.push(entry.key);
        const [, , runAt, seq] = entry.key;
        for (let p = 0; p < (value.parts ?? 0); p++) {
          stalePieces.push([PART, name, runAt!, seq!, p]);
        }
      }
    }
    await this.append(rows);
    // Heads before pieces: no head is listed without its pieces.
    await deleteInChunks(this.#kv, stale);
    await deleteInChunks(this.#kv, stalePieces);
  }

  async history(name: string, n: number): Promise<KPIResult[]> {
    const results: KPIResult[] = [];
    const entries = await whileLocked(() =>
      Array.fromAsync(
        this.#kv.list<HistoryValue>({ prefix: [HISTORY, name] }, {
          reverse: true,
          limit: n,
        }),
      )
    );
    for (const entry of entries) {
      const value = entry.value;
      if (!(value.v <= HISTORY_SCHEMA_VERSION)) {
        throw new RangeError(
          `Cannot read history "${this.location}" of schema version ${value.v}: this kpi-engine reads versions up to ${HISTORY_SCHEMA_VERSION}; upgrade kpi-engine`,
        );
      }
      const row = value.row ??
        await this.#readParts(entry.key, value.parts ?? 0);
      results.push(fromHistoryRow(row));
    }
    return results;
  }

  async #readParts(key: Deno.KvKey, count: number): Promise<HistoryRow> {
    const [, name, runAt, seq] = key;
    const keys: Deno.KvKey[] = [];
    for (let p = 0; p < count; p++) keys.push([PART, name!, runAt!, seq!, p]);
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < keys.length; i += MUTATIONS_PER_ATOMIC) {
      const got = await whileLocked(() =>
        this.#kv.getMany<Uint8Array[]>(keys.slice(i, i + MUTATIONS_PER_ATOMIC))
      );
      for (const entry of got) {
        if (entry.value === null) {
          throw new Error(
            `History "${this.location}" lacks a piece of ${
              JSON.stringify(key)
            }: ${JSON.stringify(entry.key)}`,
          );
        }
        pieces.push(entry.value);
      }
    }
    const all = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const piece of pieces) {
      all.set(piece, offset);
      offset += piece.length;
    }
    return JSON.parse(new TextDecoder().decode(all)) as HistoryRow;
  }

  async getAlertState(kpi: string, rule: string): Promise<AlertState | null> {
    const entry = await whileLocked(() =>
      this.#kv.get<Record<string, unknown>>([STATE, kpi, rule])
    );
    return entry.value === null ? null : fromAlertStateRow(entry.value);
  }

  async putAlertState(row: AlertStateRow): Promise<void> {
    await whileLocked(() => this.#kv.set([STATE, row.kpi, row.rule], row));
  }

  async appendDeliveries(rows: readonly DeliveryRow[]): Promise<void> {
    const first = await reserve(this.#kv, rows.length);
    await setInChunks(
      this.#kv,
      rows.map((row, i): [Deno.KvKey, DeliveryRow] => [
        [DELIVERY, row.kpi, row.at, first + i],
        row,
      ]),
    );
  }

  async deliveries(kpi: string, n: number): Promise<DeliveryRecord[]> {
    const entries = await whileLocked(() =>
      Array.fromAsync(
        this.#kv.list<DeliveryRow>({ prefix: [DELIVERY, kpi] }, {
          reverse: true,
          limit: n,
        }),
      )
    );
    return entries.map((entry) => fromDeliveryRow(entry.value));
  }

  async claimNotice(key: string, at: string): Promise<boolean> {
    // Only the first claim finds the key absent; KV keys hold at most 2 KiB.
    const id = key.length <= 1000 ? key : await digest(key);
    const result = await whileLocked(() =>
      this.#kv.atomic()
        .check({ key: [CLAIM, id], versionstamp: null })
        .set([CLAIM, id], at)
        .commit()
    );
    const cutoff = claimCutoff(at);
    if (result.ok && cutoff !== null) await this.#pruneClaims(cutoff);
    return result.ok;
  }

  /** Deletes the claims made before `cutoff` (unless claimed again since). */
  async #pruneClaims(cutoff: string): Promise<void> {
    const old = await whileLocked(() =>
      Array.fromAsync(this.#kv.list<string>({ prefix: [CLAIM] }))
    );
    for (const entry of old) {
      if (!claimedBefore(entry.value, cutoff)) continue;
      await whileLocked(() =>
        this.#kv.atomic().check(entry).delete(entry.key).commit()
      );
    }
  }

  async ping(): Promise<void> {
    await whileLocked(() => this.#kv.get(VERSION_KEY));
  }

  close(): void {
    if (this.#closeKv) this.#kv.close();
  }
}

/** A SHA-256 hex digest, to key a long claim. */
async function digest(text: string): Promise<string> {
  const hash = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(text),
  );
  return Array.from(
    new Uint8Array(hash),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

/** Reserves `count` sequence numbers and returns the first. */
async function reserve(kv: Deno.Kv, count: number): Promise<number> {
  for (let attempt = 0;; attempt++) {
    const current = await whileLocked(() => kv.get<number>(SEQ_KEY));
    const first = (current.value ?? 0) + 1;
    const done = await whileLocked(() =>
      kv.atomic().check(current).set(SEQ_KEY, first + count - 1).commit()
    );
    if (done.ok) return first;
    if (attempt >= 200) {
      throw new Error(
        `Cannot append to KV history: the sequence counter stayed contended after ${attempt} tries`,
      );
    }
    await new Promise((resolve) =>
      setTimeout(resolve, Math.random() * Math.min(50, 2 + attempt))
    );
  }
}

/**
 * Retries work that failed because another process holds the KV file's
 * lock (a local `kv:PATH` shared by several processes); gives up after
 * about ten seconds.
 */
async function whileLocked<T>(work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (let attempt = 0;; attempt++) {
    try {
      return await work();
    } catch (error) {
      const locked = error instanceof Error &&
        /database is locked|busy/i.test(error.message);
      if (!locked || Date.now() > deadline) throw error;
      await new Promise((resolve) =>
        setTimeout(resolve, Math.random() * Math.min(100, 5 + attempt * 5))
      );
    }
  }
}

async function setInChunks(
  kv: Deno.Kv,
  entries: readonly [Deno.KvKey, unknown][],
): Promise<void> {
  for (let i = 0; i < entries.length; i += MUTATIONS_PER_ATOMIC) {
    const atomic = kv.atomic();
    for (const [key, value] of entries.slice(i, i + MUTATIONS_PER_ATOMIC)) {
      atomic.set(key, value);
    }
    const done = await whileLocked(() => atomic.commit());
    if (!done.ok) {
      throw new Error("Cannot append to KV history: an atomic write failed");
    }
  }
}

async function deleteInChunks(
  kv: Deno.Kv,
  keys: readonly Deno.KvKey[],
): Promise<void> {
  for (let i = 0; i < keys.length; i += MUTATIONS_PER_ATOMIC) {
    const atomic = kv.atomic();
    for (const key of keys.slice(i, i + MUTATIONS_PER_ATOMIC)) {
      atomic.delete(key);
    }
    const done = await whileLocked(() => atomic.commit());
    if (!done.ok) {
      throw new Error("Cannot replace in KV history: an atomic delete failed");
    }
  }
}
