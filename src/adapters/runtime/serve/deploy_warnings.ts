/**
 * Warnings about a file that cannot work where it runs: on Deno Deploy
 * (`DENO_DEPLOYMENT_ID` is set) the file system is read-only, so an
 * `audit_log` kept in a SQLite or CSV file cannot be written. Printed by
 * `cli.ts validate` and at server start.
 *
 * @module
 */

import type { KPIConfig } from "../../../types.ts";

/**
 * Lists what in a file cannot work on Deno Deploy, when running there.
 *
 * @param config The validated file.
 * @param env The environment; `DENO_DEPLOYMENT_ID` says Deno Deploy.
 * @returns Warning lines (none off Deploy or when all is well).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const config = { auditLog: "history.db" };
 * assert.equal(deployWarnings(config, {}).length, 0);
 * assert.match(deployWarnings(config, { DENO_DEPLOYMENT_ID: "x1" })[0] ?? "", /read-only/);
 * ```
 */
export function deployWarnings(
  config: Pick<KPIConfig, "auditLog">,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  let deployment: string | undefined;
  try {
    deployment = env["DENO_DEPLOYMENT_ID"];
  } catch {
    // Not allowed to read it (a narrow --allow-env): not on Deno Deploy,
    // where every variable can be read.
    return [];
  }
  if ((deployment ?? "") === "") return [];
  const target = config.auditLog;
  if (typeof target !== "string") return [];
  // Told apart as openHistoryStore does, without loading the drivers.
  const inMemory = /(^|:):memory:$/.test(target);
  const kind = /^kv:/i.test(target)
    ? "kv"
    : /^csv:/i.test(target) || /\.csv$/i.test(target)
    ? "csv"
    : /^sqlite:/i.test(target) || /\.(db|sqlite|sqlite3)$/i.test(target)
    ? "sqlite"
    : "other";
  if ((kind === "sqlite" || kind === "csv") && !inMemory) {
    return [
      `WARNING: audit_log "${target}" is a ${kind.toUpperCase()} file, but ` +
      "the file system on Deno Deploy is read-only: use audit_log: kv: " +
      "(the platform's Deno KV) or a postgres:// URL.",
    ];
  }
  if (kind === "kv" && target !== "kv:" && !inMemory) {
    return [
      `WARNING: audit_log "${target}" names a KV file, but Deno Deploy has ` +
      "no writable files: use audit_log: kv: (the platform's Deno KV).",
    ];
  }
  return [];
}
