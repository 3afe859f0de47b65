/**
 * The server's cache of computed results for closed periods: a small LRU map
 * whose entries hold the computation's promise, so concurrent requests for
 * the same period share one computation (and one history append).
 *
 * @module
 */

import type { KPIResult } from "../types.ts";
import type { ServerCacheOptions } from "./create_app.ts";

/** One cached computation. */
export interface CacheEntry {
  /** The results, once computed. */
  readonly results: Promise<KPIResult[]>;
  /**
   * Serialized responses, filled lazily: single results by KPI name, and
   * the whole list by `*` and the period label.
   */
  readonly bodies: Map<string, string>;
  /** When the entry was stored, epoch milliseconds. */
  readonly storedAt: number;
}

/** Settings of a {@linkcode ResultCache}. */
export interface ResultCacheOptions {
  /** Most entries kept; the least recently used go first. */
  maxEntries: number;
  /** Entries older than this many milliseconds are recomputed; null: never. */
  ttlMs: number | null;
  /** The clock, epoch milliseconds. */
  now: () => number;
}

/** What {@linkcode ResultCache.getOrCompute} found or did. */
export interface CacheLookup {
  /** The entry that answers the request. */
  entry: CacheEntry;
  /** Whether the entry existed before this call (HIT) or was just made. */
  hit: boolean;
}

/** An LRU map of computations keyed by period range and KPI set. */
export class ResultCache {
  readonly #entries = new Map<string, CacheEntry>();
  readonly #options: ResultCacheOptions;

  constructor(options: ResultCacheOptions) {
    this.#options = options;
  }

  /** How many entries are held. */
  get size(): number {
    return this.#entries.size;
  }

  /** The live entry under `key`, marking it recently used. */
  get(key: string): CacheEntry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const { ttlMs, now } = this.#options;
    if (ttlMs !== null && now() - entry.storedAt >= ttlMs) {
      this.#entries.delete(key);
      return undefined;
    }
    // Re-insert so Map order is least recently used first.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  /**
   * Returns the entry under `key`, or stores and returns a new one running
   * `compute`. With `refresh`, always computes anew and replaces the entry.
   * An entry whose computation fails, or whose results carry an error, is
   * dropped once known, so the next request tries again.
   */
  getOrCompute(
    key: string,
    compute: () => Promise<KPIResult[]>,
    refresh: boolean,
  ): CacheLookup {
    if (!refresh) {
      const found = this.get(key);
      if (found !== undefined) return { entry: found, hit: true };
    }
    const entry: CacheEntry = {
      results: compute(),
      bodies: new Map(),
      storedAt: this.#options.now(),
    };
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#options.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    const drop = (): void => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    };
    entry.results.then(
      (results) => {
        if (results.some((result) => result.error !== null)) drop();
      },
      drop,
    );
    return { entry, hit: false };
  }

  /** Forgets every entry. */
  clear(): void {
    this.#entries.clear();
  }
}

/**
 * A cache from the app's settings, or a RangeError naming the bad one.
 *
 * @param settings `maxEntries` (default 1000) and `ttlMs` (default none).
 * @param clock Epoch milliseconds.
 */
export function makeCache(
  settings: ServerCacheOptions,
  clock: () => number,
): ResultCache {
  const maxEntries = settings.maxEntries ?? 1000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(
      `Invalid cache.maxEntries ${
        JSON.stringify(maxEntries)
      }: expected a positive integer`,
    );
  }
  const ttlMs = settings.ttlMs ?? null;
  if (ttlMs !== null && !(ttlMs > 0)) {
    throw new RangeError(
      `Invalid cache.ttlMs ${
        JSON.stringify(ttlMs)
      }: expected a positive number of milliseconds`,
    );
  }
  return new ResultCache({ maxEntries, ttlMs, now: clock });
}
