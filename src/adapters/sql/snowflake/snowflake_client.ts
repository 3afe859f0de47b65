/**
 * A {@linkcode SqlClient} over Snowflake's SQL API v2 (`/api/v2/statements`)
 * with `fetch` only (so it runs on Deno Deploy): key-pair authentication (a
 * JWT signed RS256 with WebCrypto, naming the public key's fingerprint),
 * positional bindings, statements polled until they complete, every
 * partition of the result fetched, and a statement past its timeout
 * cancelled.
 *
 * @module
 */

import type { SqlClient, SqlQueryOptions } from "../../../types.ts";
import {
  hidePassword,
  SqlConnectionError,
  SqlTimeoutError,
} from "../../../sql/_errors.ts";
import { importPrivateKey, publicKeyFingerprint, signJwt } from "../_jwt.ts";
import { assertSelect } from "../_read_only.ts";
import { checkUrlSettings, readUrlKey } from "../_url_key.ts";

/** Settings of a Snowflake client. */
export interface SnowflakeClientOptions {
  /** Account identifier: `myorg-myaccount`, or a locator such as `xy12345.eu-west-1`. */
  account: string;
  /** User the key belongs to. */
  user: string;
  /** PKCS #8 PEM private key whose public half is set on the user. */
  privateKey: string;
  /** Database queries run in. @default the user's default */
  database?: string;
  /** Schema queries run in. @default the user's default */
  schema?: string;
  /** Warehouse that runs the queries. @default the user's default */
  warehouse?: string;
  /** Role the queries run as. @default the user's default */
  role?: string;
  /** API root. @default `https://ACCOUNT.snowflakecomputing.com` */
  endpoint?: string;
  /** The `fetch` to use. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Milliseconds since the epoch, for token lifetimes. @default Date.now */
  now?: () => number;
}

interface StatementResponse {
  code?: string;
  message?: string;
  statementHandle?: string;
  statementStatusUrl?: string;
  resultSetMetaData?: {
    rowType?: { name: string; type: string }[];
    partitionInfo?: { rowCount: number }[];
  };
  data?: (string | null)[][];
}

/** The binding type of a JavaScript value. */
function bindingType(value: unknown): string {
  if (typeof value === "boolean") return "BOOLEAN";
  if (typeof value === "bigint") return "FIXED";
  if (typeof value === "number") {
    return Number.isInteger(value) ? "FIXED" : "REAL";
  }
  return "TEXT";
}

/**
 * The account as JWT claims name it: upper case, without the region and
 * cloud of a locator (`xy12345.eu-west-1` is `XY12345`).
 */
function claimAccount(account: string): string {
  return (account.split(".")[0] ?? account).toUpperCase();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A client for one account and user. Each query is a POST to
 * `/api/v2/statements` with the statement, its bindings (`?` placeholders,
 * typed TEXT, FIXED, REAL or BOOLEAN after the value), `timeout` in seconds
 * from the query's timeout, database, schema, warehouse, role and the
 * period's time zone as the session's `TIMEZONE`. A statement still running
 * (HTTP 202) is polled; past the timeout it is cancelled. Only SELECT (or
 * WITH) statements are sent.
 *
 * @param options Account, user, key and context.
 * @returns The client.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const client = snowflakeClient({ account: "myorg-myaccount", user: "KPI", privateKey: "(a PEM key)" });
 * assert.equal(client.dialect, "snowflake");
 * await client.close();
 * ```
 */
export function snowflakeClient(options: SnowflakeClientOptions): SqlClient {
  const doFetch = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const endpoint = (options.endpoint ??
    `https://${options.account.toLowerCase()}.snowflakecomputing.com`)
    .replace(/\/+$/, "");
  const account = claimAccount(options.account);
  const user = options.user.toUpperCase();
  const where =
    `Snowflake account "${options.account}" as user "${options.user}"${
      options.database ? `, database "${options.database}"` : ""
    }`;
  let key: Promise<{ key: CryptoKey; fingerprint: string }> | null = null;
  let jwt: { value: string; expires: number } | null = null;
  let closed = false;

  const connectionError = (message: string, cause?: unknown) =>
    new SqlConnectionError(
      `Cannot connect to ${where}: ${
        hidePassword(message, options.privateKey)
      }`,
      cause === undefined ? undefined : { cause },
    );

  const token = async (): Promise<string> => {
    if (jwt && jwt.expires > now()) return jwt.value;
    key ??= (async () => {
      const imported = await importPrivateKey(
        options.privateKey,
        `Snowflake user ${options.user}`,
      );
      return {
        key: imported,
        fingerprint: await publicKeyFingerprint(imported),
      };
    })();
    const { key: signing, fingerprint } = await key;
    const iat = Math.floor(now() / 1000);
    const value = await signJwt(signing, {}, {
      iss: `${account}.${user}.${fingerprint}`,
      sub: `${account}.${user}`,
      iat,
      exp: iat + 3600,
    });
    jwt = { value, expires: now() + 59 * 60_000 - 60_000 };
    return value;
  };

  const call = async (
    method: "GET" | "POST",
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: StatementResponse }> => {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${await token()}`,
      "X-Snowflake-Authorization-Token-Type": "KEYPAIR_JWT",
      Accept: "application/json",
      "User-Agent": "kpi-engine/0.1",
    };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await doFetch(`${endpoint}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw connectionError(
        `${new URL(endpoint).host}: ${
          error instanceof Error ? error.message : String(error)
        }`,
        error,
      );
    }
    const json = await response.json().catch(() => ({})) as StatementResponse;
    if (response.status === 401 || response.status === 403) {
      throw connectionError(
        `${json.message ?? "authentication failed"} (HTTP ${response.status}${
          json.code ? `, code ${json.code}` : ""
        })`,
      );
    }
    if (response.status === 408 || json.code === "000630") {
      throw new SqlTimeoutError(
        json.message ?? "Statement reached its timeout",
      );
    }
    if (response.status !== 200 && response.status !== 202) {
      throw new Error(
        `Snowflake: ${json.message ?? `HTTP ${response.status}`}${
          json.code ? ` (code ${json.code})` : ""
        }`,
      );
    }
    return { status: response.status, json };
  };

  const cancel = async (handle: string) => {
    try {
      await call(
        "POST",
        `/api/v2/statements/${encodeURIComponent(handle)}/cancel`,
      );
    } catch {
      // The statement may have ended meanwhile.
    }
  };

  // Every client here opens query() alike (the SqlClient signature, the
  // closed check, the timeout read); what follows is this driver's own, so
  // the clients share no more than that.
  return {
    dialect: "snowflake",
    async query(
      text: string,
      params: readonly unknown[],
      queryOptions: SqlQueryOptions = {},
    ): Promise<unknown[][]> {
      if (closed) throw new Error("The Snowflake client is closed");
      assertSelect(text, "Snowflake");
      const started = now();
      const timeoutMs = queryOptions.timeoutMs;
      const bindings: Record<string, { type: string; value: string | null }> =
        {};
      params.forEach((value, i) => {
        bindings[String(i + 1)] = {
          type: bindingType(value),
          value: value === null || value === undefined ? null : String(value),
        };
      });
      const body: Record<string, unknown> = {
        statement: text,
        bindings,
        parameters: {
          timezone: queryOptions.timezone ?? "UTC",
          query_tag: "kpi-engine",
        },
      };
      if (timeoutMs !== undefined) {
        body.timeout = Math.max(1, Math.ceil(timeoutMs / 1000));
      }
      if (options.database) body.database = options.database;
      if (options.schema) body.schema = options.schema;
      if (options.warehouse) body.warehouse = options.warehouse;
      if (options.role) body.role = options.role;
      let { status, json } = await call(
        "POST",
        `/api/v2/statements?requestId=${crypto.randomUUID()}`,
        body,
      );
      const handle = json.statementHandle;
      let wait = 50;
      while (status === 202) {
        if (!handle) {
          throw new Error("Snowflake answered without a statement handle");
        }
        if (
          closed ||
          (timeoutMs !== undefined && now() - started >= timeoutMs)
        ) {
          await cancel(handle);
          throw new SqlTimeoutError(
            `Query canceled after ${timeoutMs} ms (timeout_ms): statement ${handle} cancelled`,
          );
        }
        const left = timeoutMs === undefined
          ? wait
          : Math.min(wait, Math.max(1, timeoutMs - (now() - started)));
        await sleep(left);
        wait = Math.min(wait * 2, 1000);
        ({ status, json } = await call(
          "GET",
          `/api/v2/statements/${encodeURIComponent(handle)}`,
        ));
      }
      const types = (json.resultSetMetaData?.rowType ?? []).map((c) =>
        c.type.toLowerCase()
      );
      const convert = (row: (string | null)[]) =>
        row.map((value, i) => {
          if (value === null) return null;
          const type = types[i] ?? "text";
          if (type === "fixed" || type === "real") return Number(value);
          if (type === "boolean") return value === "true";
          return value;
        });
      const rows = (json.data ?? []).map(convert);
      const partitions = json.resultSetMetaData?.partitionInfo?.length ?? 1;
      for (let partition = 1; partition < partitions; partition++) {
        const next = await call(
          "GET",
          `/api/v2/statements/${
            encodeURIComponent(handle ?? "")
          }?partition=${partition}`,
        );
        for (const row of next.json.data ?? []) rows.push(convert(row));
      }
      return rows;
    },
    close(): Promise<void> {
      closed = true;
      return Promise.resolve();
    },
  };
}

// OpenSnowflakeClientOptions and its opener read like OpenBigQueryClientOptions (bigquery/) on purpose: the
// options and docs name this warehouse's own key settings; how both find
// the key is shared in ../_url_key.ts.
/** Options of {@linkcode openSnowflakeClient}. */
export interface OpenSnowflakeClientOptions {
  /** The folder a relative `private_key_file` resolves against. @default the current working directory */
  baseDir?: string;
  /**
   * Environment variables read for the key: `SNOWFLAKE_PRIVATE_KEY` (the PEM
   * text) or `SNOWFLAKE_PRIVATE_KEY_PATH`.
   *
   * @default Deno.env.toObject()
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** The `fetch` to use. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * Opens a client from
 * `snowflake://USER@ACCOUNT/DATABASE/SCHEMA?warehouse=WH&role=ROLE`. The
 * key comes from `private_key_file=` (relative to `baseDir`), else from
 * `SNOWFLAKE_PRIVATE_KEY` (the PEM itself, for Deno Deploy), else from the
 * file `SNOWFLAKE_PRIVATE_KEY_PATH` names. `endpoint=` overrides the API
 * root. Nothing is sent until the first query.
 *
 * @param url The URL.
 * @param options Base folder, environment, `fetch`.
 * @returns The client.
 * @throws {TypeError} When the URL cannot be read or no key is found.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   openSnowflakeClient("snowflake://KPI@myorg-myaccount/ANALYTICS/PUBLIC?warehouse=REPORTING", { env: {} }),
 *   /No private key for Snowflake user "KPI"/,
 * );
 * ```
 */
export async function openSnowflakeClient(
  url: string,
  options: OpenSnowflakeClientOptions = {},
): Promise<SqlClient> {
  const m =
    /^snowflake:\/\/([^@/?#]+)@([^/?#]+)(?:\/([^/?#]+))?(?:\/([^/?#]+))?\/?(?:\?(.*))?$/i
      .exec(url);
  if (!m) {
    throw new TypeError(
      `Invalid Snowflake URL "${
        hidePassword(url, undefined)
      }": expected snowflake://USER@ACCOUNT/DATABASE/SCHEMA?warehouse=WAREHOUSE&role=ROLE`,
    );
  }
  const user = decodeURIComponent((m[1] as string).split(":")[0] as string);
  const account = decodeURIComponent(m[2] as string);
  const search = new URLSearchParams(m[5] ?? "");
  checkUrlSettings(
    search,
    ["warehouse", "role", "private_key_file", "endpoint"],
    "Snowflake",
  );
  const { text: privateKey } = await readUrlKey(
    search,
    options.env ?? Deno.env.toObject(),
    options.baseDir,
    {
      setting: "private_key_file",
      inlineVariable: "SNOWFLAKE_PRIVATE_KEY",
      inlineIs: "the PEM key",
      pathVariable: "SNOWFLAKE_PRIVATE_KEY_PATH",
      key: "private key",
      owner: `Snowflake user "${user}"`,
    },
  );
  const clientOptions: SnowflakeClientOptions = { account, user, privateKey };
  if (m[3]) clientOptions.database = decodeURIComponent(m[3]);
  if (m[4]) clientOptions.schema = decodeURIComponent(m[4]);
  const warehouse = search.get("warehouse");
  if (warehouse) clientOptions.warehouse = warehouse;
  const role = search.get("role");
  if (role) clientOptions.role = role;
  const endpoint = search.get("endpoint");
  if (endpoint) clientOptions.endpoint = endpoint;
  if (options.fetch) clientOptions.fetch = options.fetch;
  return snowflakeClient(clientOptions);
}
