/**
 * The CSV history store: one CSV file, header written once, every append a
 * whole number of rows written under an exclusive file lock. `replace`
 * (what backfill uses) rewrites the file under the same lock into a
 * temporary file renamed over it, so a crash leaves the old file whole.
 * Alert state lives beside it in `<name>.alerts.json` (replaced atomically),
 * delivery outcomes in `<name>.deliveries.csv` (append-only like the log).
 *
 * @module
 */

import { stringify } from "csv-stringify/sync";
import { parse } from "csv-parse/sync";
import { parse as parseStream } from "csv-parse";
import { basename, dirname, join } from "node:path";
import type { AlertState, HistoryRecord, KPIResult } from "../../../types.ts";
import type { AuditLog } from "../_types.ts";
// Each store names the parts of the row vocabulary (_row.ts) it uses;
// the lists read alike because the stores keep the same tables.
import {
  type AlertStateRow,
  DELIVERY_COLUMNS,
  type DeliveryRow,
  fromAlertStateRow,
  fromHistoryRow,
  HISTORY_COLUMNS,
  HISTORY_SCHEMA_VERSION,
  type HistoryRow,
  type LooseRow,
  newestFirst,
  toAlertStateRow,
  toHistoryRow,
} from "../_row.ts";
import { type HistoryRows, rowHistoryStore } from "../_row_store.ts";
import { fromLegacyRow, isLegacyHistoryColumns } from "../_legacy.ts";
import { claimCutoff, claimedBefore } from "../_claims.ts";

const VERSION_COLUMN = "schema_version";
const HISTORY_HEADER = [VERSION_COLUMN, ...HISTORY_COLUMNS];
const DELIVERY_HEADER = [VERSION_COLUMN, ...DELIVERY_COLUMNS];

/** The files a CSV history store keeps. */
export interface CsvHistoryFiles {
  /** The history itself, e.g. `audit.csv`. */
  history: string;
  /** Alert state, e.g. `audit.alerts.json`. */
  alerts: string;
  /** Delivery outcomes, e.g. `audit.deliveries.csv`. */
  deliveries: string;
  /** Notices claimed for sending, one JSON line each, e.g. `audit.claims.jsonl`. */
  claims: string;
}

/**
 * Names the files a CSV history store at `path` uses: the file itself, and
 * beside it `<name>.alerts.json`, `<name>.deliveries.csv` and
 * `<name>.claims.jsonl`.
 *
 * @param path The history file, e.g. `logs/audit.csv`.
 * @returns The four paths.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(csvHistoryFiles("logs/audit.csv"), {
 *   history: "logs/audit.csv",
 *   alerts: "logs/audit.alerts.json",
 *   deliveries: "logs/audit.deliveries.csv",
 *   claims: "logs/audit.claims.jsonl",
 * });
 * ```
 */
export function csvHistoryFiles(path: string): CsvHistoryFiles {
  const base = /\.csv$/i.test(path) ? path.slice(0, -4) : path;
  return {
    history: path,
    alerts: `${base}.alerts.json`,
    deliveries: `${base}.deliveries.csv`,
    claims: `${base}.claims.jsonl`,
  };
}

/**
 * Opens a CSV history store. Nothing is created until the first write. A
 * file in an older layout (version 0: the reference package's columns such
 * as `timestamp,kpi_name,value,period_start,period_end,alert_status`) reads
 * as it is; the first append rewrites it in the current layout, keeping a
 * copy of the original as `<file>.v0.bak`. The rewrite goes to a temporary
 * file in the same folder, flushed to disk and renamed over the original, so
 * a crash part-way leaves the old file whole. The backup is written under a
 * temporary name too and renamed when complete, so a `<file>.v0.bak` is
 * always a whole copy. Opening removes the temporary files a killed rewrite
 * left (`<file>.<uuid>.tmp`, `<file>.v0.bak.<uuid>.tmp`), under the file's
 * lock so a rewrite still running elsewhere keeps its own.
 *
 * @param path The CSV file.
 * @returns The open store.
 * @throws {TypeError} When `path` is empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const store = await openCsvHistoryStore(`${dir}/audit.csv`);
 * assert.deepEqual(await store.history("revenue", 5), []);
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openCsvHistoryStore(path: string): Promise<AuditLog> {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(
      `Expected a CSV file path, got ${JSON.stringify(path)}`,
    );
  }
  await removeLeftovers(path);
  return rowHistoryStore("csv", path, new CsvRows(path));
}

/** How the CSV store writes and reads rows. */
class CsvRows implements HistoryRows {
  readonly location: string;
  readonly #files: CsvHistoryFiles;

  constructor(path: string) {
    this.location = path;
    this.#files = csvHistoryFiles(path);
  }

  async append(rows: readonly HistoryRow[]): Promise<void> {
    const body = encodeRows(
      rows.map((row) => versioned(row, HISTORY_COLUMNS)),
    );
    await withExclusiveLock(this.#files.history, async (file, size) => {
      let text = body;
      if (size === 0) {
        text = encodeRows([HISTORY_HEADER]) + body;
      } else {
        const head = await readHead(file, size);
        const header = headerOf(head);
        if (header.includes(VERSION_COLUMN)) {
          // As `history` does: rows of a newer version are not mixed with ours.
          checkHeadVersion(head, header, this.location);
        }
        if (!header.includes(VERSION_COLUMN)) {
          if (!isLegacyHistoryColumns(header)) {
            throw new Error(
              `Cannot append to "${this.location}": its header (${
                header.join(",")
              }) is not a kpi-engine history`,
            );
          }
          // Written beside the file and renamed over it: a crash leaves
          // either the old file or the whole new one, never a cut one.
          await migrateLegacy(this.location, file, body);
          return;
        } else if (!(await endsWithNewline(file, size))) {
          // A row cut short (e.g. by a crash) stays on its own line.
          text = "\n" + body;
        }
      }
      await writeAll(file, text);
    });
  }

  async replace(rows: readonly HistoryRow[]): Promise<void> {
    const replaced = new Set(
      rows.map((r) => periodKey(r.kpi_name, r.period_start, r.period_end)),
    );
    const body = rows.map((row) => versioned(row, HISTORY_COLUMNS));
    for (;;) {
      let migrated = false;
      await withExclusiveLock(this.#files.history, async (file, size) => {
        if (size === 0) {
          await writeAll(file, encodeRows([HISTORY_HEADER, ...body]));
          return;
        }
        const text = await readFrom(file);
        const header = headerOf(text);
        if (!header.includes(VERSION_COLUMN)) {
          if (!isLegacyHistoryColumns(header)) {
            throw new Error(
              `Cannot replace rows in "${this.location}": its header (${
                header.join(",")
              }) is not a kpi-engine history`,
            );
          }
          // Upgraded first (with its backup), as `append` does; then again.
          await migrateLegacy(this.location, file, "");
          migrated = true;
          return;
        }
        const kept: unknown[][] = [HISTORY_HEADER];
        const parsed = decode(text);
        for (let i = 1; i < parsed.length; i++) {
          const row = toObject(header, parsed[i]!);
          checkRowVersion(row, this.location);
          const key = periodKey(row.kpi_name, row.period_start, row.period_end);
          if (replaced.has(key)) continue;
          kept.push(HISTORY_HEADER.map((c) => row[c] ?? null));
        }
        const { mode } = await file.stat();
        await rewrite(this.location, encodeRows([...kept, ...body]), mode);
      });
      if (!migrated) return;
    }
  }

  async history(name: string, n: number): Promise<KPIResult[]> {
    const text = await readShared(this.#files.history);
    if (text === null || text === "") return [];
    const records = decode(text);
    const header = (records[0] ?? []).map((h) => String(h ?? ""));
    if (!header.includes(VERSION_COLUMN)) {
      if (!isLegacyHistoryColumns(header)) {
        throw new Error(
          `Cannot read "${this.location}": its header (${
            header.join(",")
          }) is not a kpi-engine history`,
        );
      }
      const legacy = legacyRecords(text)
        .map((record, order) => ({ at: record.runAt, order, record }))
        .filter((e) => e.record.result.name === name);
      return newestFirst(legacy).slice(0, n).map((e) => e.record.result);
    }
    return newestRows(records, ["kpi_name", name], "run_at", n, this.location)
      .map(fromHistoryRow);
  }

  async getAlertState(kpi: string, rule: string): Promise<AlertState | null> {
    const states = await readAlertStates(this.#files.alerts);
    return states.find((s) => s.kpi === kpi && s.rule === rule) ?? null;
  }

  async putAlertState(row: AlertStateRow): Promise<void> {
    const fresh = fromAlertStateRow(row);
    // The history file's lock guards the read-modify-write of the sidecar,
    // which is replaced by rename and so cannot hold a lock itself.
    await withExclusiveLock(this.#files.history, async () => {
      const states = await readAlertStates(this.#files.alerts);
      const at = states.findIndex((s) =>
        s.kpi === fresh.kpi && s.rule === fresh.rule
      );
      if (at === -1) states.push(fresh);
      else states[at] = fresh;
      await writeAtomically(
        this.#files.alerts,
        JSON.stringify(
          { schema_version: HISTORY_SCHEMA_VERSION, states },
          null,
          2,
        ) + "\n",
      );
    });
  }

  async appendDeliveries(rows: readonly DeliveryRow[]): Promise<void> {
    const body = encodeRows(
      rows.map((row) => versioned(row, DELIVERY_COLUMNS)),
    );
    await withExclusiveLock(this.#files.deliveries, async (file, size) => {
      let text = body;
      if (size === 0) text = encodeRows([DELIVERY_HEADER]) + body;
      else if (!(await endsWithNewline(file, size))) text = "\n" + body;
      await writeAll(file, text);
    });
  }

  async deliveries(kpi: string, n: number): Promise<LooseRow[]> {
    const text = await readShared(this.#files.deliveries);
    if (text === null || text === "") return [];
    return newestRows(
      decode(text),
      ["kpi", kpi],
      "at",
      n,
      this.#files.deliveries,
    );
  }

  async claimNotice(key: string, at: string): Promise<boolean> {
    let claimed = false;
    // Under the claims file's exclusive lock, the first to find the key
    // absent appends it; every later claim finds it.
    // Claims older than the cutoff are left out by rewriting the file
    // (renamed over it, so a crash leaves the old one whole).
    const cutoff = claimCutoff(at);
    await withExclusiveLock(this.#files.claims, async (file, size) => {
      const text = size === 0 ? "" : await readFrom(file);
      const kept: string[] = [];
      let dropped = 0;
      for (const line of text.split("\n")) {
        if (line === "") continue;
        try {
          const claim = JSON.parse(line) as { key?: unknown; at?: unknown };
          if (claim.key === key) return;
          if (cutoff !== null && claimedBefore(claim.at, cutoff)) dropped++;
          else kept.push(line);
        } catch {
          // A line cut short by a crash claims nothing.
          dropped++;
        }
      }
      const entry = JSON.stringify({ key, at }) + "\n";
      if (dropped > 0) {
        const { mode } = await file.stat();
        await rewrite(
          this.#files.claims,
          kept.map((line) => line + "\n").join("") + entry,
          mode,
        );
      } else {
        await writeAll(
          file,
          size > 0 && !text.endsWith("\n") ? "\n" + entry : entry,
        );
      }
      claimed = true;
    });
    return claimed;
  }

  async ping(): Promise<void> {
    const info = await Deno.stat(dirname(this.location));
    if (!info.isDirectory) {
      throw new Error(
        `Cannot keep history in "${this.location}": its folder is not a directory`,
      );
    }
  }

  close(): void {
    // Every write opens and closes its file: nothing is held.
  }
}

/** A row's fields in column order, after this schema version. */
function versioned<R>(row: R, columns: readonly (keyof R)[]): unknown[] {
  return [HISTORY_SCHEMA_VERSION, ...columns.map((c) => row[c])];
}

/** CSV text of rows: null as an empty field, `""` for an empty string. */
function encodeRows(rows: readonly unknown[][]): string {
  return stringify(rows as unknown[][], {
    record_delimiter: "\n",
    cast: {
      string: (value) =>
        value === "" ? { value: "", quoted_empty: true } : value,
      number: (value) => Object.is(value, -0) ? "-0" : String(value),
      boolean: (value) => value ? "true" : "false",
    },
  });
}

const DECODE_OPTIONS = {
  bom: true,
  skip_empty_lines: true,
  skip_records_with_error: true,
  cast: (value: string, context: { quoting: boolean }) =>
    context.quoting ? value : value === "" ? null : value,
};

/** Parses CSV text into records: unquoted empty fields become null. */
function decode(text: string): (string | null)[][] {
  return parse(text, DECODE_OPTIONS) as (string | null)[][];
}

function headerOf(text: string): string[] {
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  return (decode(firstLine)[0] ?? []).map((h) => String(h ?? "").trim());
}

function toObject(header: readonly string[], record: readonly unknown[]) {
  const row: LooseRow = {};
  header.forEach((column, i) => {
    row[column] = record[i] ?? null;
  });
  return row;
}

/**
 * The last `n` rows of decoded CSV records (header first) whose column
 * holds the value, newest first by the instant column, later rows first
 * among equal instants.
 *
 * @throws {RangeError} When a matching row is of a newer schema version.
 */
function newestRows(
  records: readonly (string | null)[][],
  [column, value]: [string, string],
  instant: string,
  n: number,
  path: string,
): LooseRow[] {
  const header = (records[0] ?? []).map((h) => String(h ?? ""));
  const at = header.indexOf(column);
  const entries: { at: string; order: number; row: LooseRow }[] = [];
  for (let i = 1; i < records.length; i++) {
    const record = records[i]!;
    if (record[at] !== value) continue;
    const row = toObject(header, record);
    checkRowVersion(row, path);
    entries.push({ at: String(row[instant]), order: i, row });
  }
  return newestFirst(entries).slice(0, n).map((e) => e.row);
}

function checkRowVersion(row: LooseRow, path: string): void {
  const version = Number(row[VERSION_COLUMN] ?? HISTORY_SCHEMA_VERSION);
  if (!(version <= HISTORY_SCHEMA_VERSION)) {
    throw new RangeError(
      `Cannot read history "${path}" of schema version ${
        row[VERSION_COLUMN]
      }: this kpi-engine reads versions 0 to ${HISTORY_SCHEMA_VERSION}; upgrade kpi-engine`,
    );
  }
}

/**
 * Refuses a file whose first rows (those wholly in `head`) were written by
 * a newer schema version.
 *
 * @throws {RangeError} When a row's version is newer than this one's.
 */
function checkHeadVersion(
  head: string,
  header: readonly string[],
  path: string,
): void {
  const whole = head.slice(0, head.lastIndexOf("\n") + 1);
  let records: (string | null)[][];
  try {
    records = decode(whole);
  } catch {
    return; // A quoted field cut by the head's end: nothing whole to check.
  }
  for (const record of records.slice(1)) {
    checkRowVersion(toObject(header, record), path);
  }
}

function legacyRecords(text: string): HistoryRecord[] {
  const records = decode(text);
  const header = (records[0] ?? []).map((h) => String(h ?? "").trim());
  const out: HistoryRecord[] = [];
  for (let i = 1; i < records.length; i++) {
    const record = fromLegacyRow(toObject(header, records[i]!));
    if (record !== null) out.push(record);
  }
  return out;
}

async function readAlertStates(path: string): Promise<AlertState[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  let data: { schema_version?: number; states?: unknown[] };
  try {
    data = JSON.parse(text);
    if (data === null || typeof data !== "object" || Array.isArray(data)) {
      throw new SyntaxError("expected a JSON object");
    }
  } catch (error) {
    // Never read as "no alerts": every alert would be sent again.
    throw new Error(
      `Cannot read alert state "${path}": it is not valid JSON (${
        (error as Error).message
      }); fix or remove the file (removing it sends every firing alert again)`,
      { cause: error },
    );
  }
  const version = data.schema_version ?? HISTORY_SCHEMA_VERSION;
  if (!(version <= HISTORY_SCHEMA_VERSION)) {
    throw new RangeError(
      `Cannot read alert state "${path}" of schema version ${version}: this kpi-engine reads versions up to ${HISTORY_SCHEMA_VERSION}; upgrade kpi-engine`,
    );
  }
  return (data.states ?? []).map((s) =>
    fromAlertStateRow(toAlertStateRow(s as AlertState))
  );
}

/**
 * Runs `work` holding an exclusive lock on the file at `path`. When the file
 * was replaced (renamed over) while this one waited for the lock, the lock
 * is on a file no longer at `path`: it lets go and locks the new one.
 */
async function withExclusiveLock(
  path: string,
  work: (file: Deno.FsFile, size: number) => Promise<void>,
): Promise<void> {
  for (;;) {
    const file = await Deno.open(path, {
      read: true,
      append: true,
      create: true,
    });
    try {
      await file.lock(true);
      try {
        const info = await file.stat();
        if (!(await isStillAt(path, info))) continue;
        await work(file, info.size);
        return;
      } finally {
        await file.unlock();
      }
    } finally {
      file.close();
    }
  }
}

/** Whether the open file described by `info` is still the one at `path`. */
async function isStillAt(path: string, info: Deno.FileInfo): Promise<boolean> {
  let now: Deno.FileInfo;
  try {
    now = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
  return now.ino === info.ino && now.dev === info.dev;
}

/** Reads a whole file under a shared lock; null when it does not exist. */
async function readShared(path: string): Promise<string | null> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  try {
    await file.lock(false);
    try {
      return await readFrom(file);
    } finally {
      await file.unlock();
    }
  } finally {
    file.close();
  }
}

async function readFrom(file: Deno.FsFile): Promise<string> {
  await file.seek(0, Deno.SeekMode.Start);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buffer = new Uint8Array(64 * 1024);
  for (;;) {
    const read = await file.read(buffer);
    if (read === null) break;
    chunks.push(buffer.slice(0, read));
    total += read;
  }
  const all = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(all);
}

/** The first bytes of a file, enough for its header line. */
async function readHead(file: Deno.FsFile, size: number): Promise<string> {
  await file.seek(0, Deno.SeekMode.Start);
  const buffer = new Uint8Array(Math.min(size, 64 * 1024));
  let filled = 0;
  while (filled < buffer.length) {
    const read = await file.read(buffer.subarray(filled));
    if (read === null) break;
    filled += read;
  }
  return new TextDecoder().decode(buffer.subarray(0, filled));
}

async function endsWithNewline(
  file: Deno.FsFile,
  size: number,
): Promise<boolean> {
  await file.seek(size - 1, Deno.SeekMode.Start);
  const last = new Uint8Array(1);
  await file.read(last);
  return last[0] === 0x0a;
}

async function writeAll(file: Deno.FsFile, text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  while (offset < bytes.length) {
    offset += await file.write(bytes.subarray(offset));
  }
}

/** Identifies the rows of one KPI and period. */
function periodKey(name: unknown, start: unknown, end: unknown): string {
  return JSON.stringify([name, start, end]);
}

/**
 * Replaces the file at `path` with `text`: written to a temporary file in
 * the same folder (with the original's permissions), flushed to disk,
 * renamed over it. Writers waiting on the old file's lock see the rename
 * and lock the new one.
 */
async function rewrite(
  path: string,
  text: string,
  mode: number | null,
): Promise<void> {
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  let renamed = false;
  try {
    const out = await Deno.open(temp, {
      write: true,
      createNew: true,
      // The original's permissions, so a private file stays private.
      ...(mode === null ? {} : { mode: mode & 0o777 }),
    });
    if (mode !== null && Deno.build.os !== "windows") {
      await Deno.chmod(temp, mode & 0o777);
    }
    try {
      await writeAll(out, text);
      await out.sync();
    } finally {
      out.close();
    }
    await Deno.rename(temp, path);
    renamed = true;
    await syncFolder(dirname(path));
  } finally {
    if (!renamed) await Deno.remove(temp).catch(() => {});
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeTextFile(temp, text);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

/**
 * Rewrites a version 0 file in the current layout, `tail` (rows already in
 * CSV) last. The original is read once, in chunks: each chunk is copied to
 * a temporary backup and its rows converted into a temporary file beside the
 * original. Both are flushed to disk; the backup is renamed to
 * `<file>.v0.bak` (so that name only ever holds a whole copy), then the new
 * file over the original. Until that rename the original is untouched, so a
 * crash leaves it whole, and the temporary files it leaves are removed by
 * the next open (see {@linkcode removeLeftovers}).
 */
async function migrateLegacy(
  path: string,
  file: Deno.FsFile,
  tail: string,
): Promise<void> {
  const backupTemp = `${path}.v0.bak.${crypto.randomUUID()}.tmp`;
  const backup = await Deno.open(backupTemp, { write: true, createNew: true });
  let backupDone = false;
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  let out: Deno.FsFile;
  try {
    out = await Deno.open(temp, { write: true, createNew: true });
  } catch (error) {
    backup.close();
    await Deno.remove(backupTemp).catch(() => {});
    throw error;
  }
  let renamed = false;
  try {
    const pending: string[] = [encodeRows([HISTORY_HEADER])];
    let pendingRows = 0;
    const flush = async () => {
      await writeAll(out, pending.join(""));
      pending.length = 0;
      pendingRows = 0;
    };
    const parser = parseStream(DECODE_OPTIONS);
    const feed = (async () => {
      try {
        await file.seek(0, Deno.SeekMode.Start);
        const buffer = new Uint8Array(256 * 1024);
        for (;;) {
          const read = await file.read(buffer);
          if (read === null) break;
          const chunk = buffer.slice(0, read);
          await writeBytes(backup, chunk);
          if (!parser.write(chunk)) {
            await new Promise((resolve) => parser.once("drain", resolve));
          }
        }
        parser.end();
      } catch (error) {
        parser.destroy(error as Error);
      }
    })();
    let header: string[] | null = null;
    for await (const fields of parser as AsyncIterable<(string | null)[]>) {
      if (header === null) {
        header = fields.map((h) => String(h ?? "").trim());
        continue;
      }
      const record = fromLegacyRow(toObject(header, fields));
      if (record === null) continue;
      const row = toHistoryRow(record);
      pending.push(
        encodeRows([versioned(row, HISTORY_COLUMNS)]),
      );
      if (++pendingRows >= 1000) await flush();
    }
    await feed;
    pending.push(tail);
    await flush();
    await backup.sync();
    backup.close();
    backupDone = true;
    await out.sync();
    out.close();
    // The whole backup gets its name first: once the original is replaced,
    // a complete copy of it is always there.
    await Deno.rename(backupTemp, await freeBackupName(path));
    await Deno.rename(temp, path);
    renamed = true;
    await syncFolder(dirname(path));
  } finally {
    if (!backupDone) backup.close();
    if (!renamed) {
      try {
        out.close();
      } catch {
        // Already closed.
      }
      await Deno.remove(temp).catch(() => {});
      await Deno.remove(backupTemp).catch(() => {});
    }
  }
}

/**
 * The first of `<file>.v0.bak`, `<file>.v0.1.bak`, ... not taken. Called
 * under the file's exclusive lock, so no other migration of it races.
 */
async function freeBackupName(path: string): Promise<string> {
  for (let i = 0;; i++) {
    const name = i === 0 ? `${path}.v0.bak` : `${path}.v0.${i}.bak`;
    try {
      await Deno.lstat(name);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return name;
      throw error;
    }
  }
}

/** What a temporary file of this store is named after `<file>.`. */
const LEFTOVER =
  /^(?:v0\.bak\.)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/**
 * Removes the temporary files a rewrite of `path` killed part-way left
 * beside it: `<file>.<uuid>.tmp` (the new layout, or a `replace`) and
 * `<file>.v0.bak.<uuid>.tmp` (a backup not yet complete). Only names of
 * exactly that pattern are touched. Every such rewrite runs under the
 * file's exclusive lock, so the folder is read again under that lock: a
 * rewrite still running in another process finishes first and its files
 * are gone (renamed) by then. Nothing is done when the file does not exist.
 */
async function removeLeftovers(path: string): Promise<void> {
  if ((await leftoversOf(path)).length === 0) return;
  for (;;) {
    let file: Deno.FsFile;
    try {
      // Not created: opening a store creates nothing.
      file = await Deno.open(path, { read: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    try {
      await file.lock(true);
      try {
        // Replaced while waiting: the lock that counts is the new file's.
        if (!(await isStillAt(path, await file.stat()))) continue;
        for (const name of await leftoversOf(path)) {
          await Deno.remove(name).catch((error) => {
            if (!(error instanceof Deno.errors.NotFound)) throw error;
          });
        }
        return;
      } finally {
        await file.unlock();
      }
    } finally {
      file.close();
    }
  }
}

/** The paths beside `path` named as {@linkcode removeLeftovers} says. */
async function leftoversOf(path: string): Promise<string[]> {
  const folder = dirname(path);
  const prefix = `${basename(path)}.`;
  const found: string[] = [];
  try {
    for await (const entry of Deno.readDir(folder)) {
      if (!entry.isFile || !entry.name.startsWith(prefix)) continue;
      if (LEFTOVER.test(entry.name.slice(prefix.length))) {
        found.push(join(folder, entry.name));
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return found;
}

async function writeBytes(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    offset += await file.write(bytes.subarray(offset));
  }
}

/** Makes a rename in `folder` durable where the platform allows it. */
async function syncFolder(folder: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  try {
    const dir = await Deno.open(folder, { read: true });
    try {
      await dir.sync();
    } finally {
      dir.close();
    }
  } catch {
    // Not every file system lets a folder be synced; the rename stands.
  }
}
