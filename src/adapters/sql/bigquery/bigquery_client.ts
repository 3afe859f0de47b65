/**
 * A {@linkcode SqlClient} over BigQuery's REST API with `fetch` only (so it
 * runs on Deno Deploy): `jobs.query` with named parameters, polling
 * `jobs.getQueryResults` until the job completes and paging through its
 * rows; a service account's key signs a JWT (RS256, WebCrypto) exchanged
 * for an access token that is cached until it expires.
 *
 * @module
 */

import type { SqlClient, SqlQueryOptions } from "../../../types.ts";
import {
  hidePassword,
  SqlConnectionError,
  SqlTimeoutError,
} from "../../../sql/_errors.ts";
import { importPrivateKey, signJwt } from "../_jwt.ts";
import { assertSelect } from "../_read_only.ts";
import { checkUrlSettings, readUrlKey } from "../_url_key.ts";

/** The fields of a service account's JSON key the client uses. */
export interface ServiceAccountKey {
  /** `service_account`. */
  type?: string;
  /** The account, `name@project.iam.gserviceaccount.com`. */
  client_email: string;
  /** PKCS #8 PEM private key. */
  private_key: string;
  /** Id of the key, sent as the JWT's `kid`. */
  private_key_id?: string;
  /** Where tokens come from. @default "https://oauth2.googleapis.com/token" */
  token_uri?: string;
  /** The account's project. */
  project_id?: string;
}

/** Settings of a BigQuery client. */
export interface BigQueryClientOptions {
  /** Project billed for the queries (and the default project of table names). */
  project: string;
  /** Dataset unqualified table names resolve in. @default none */
  dataset?: string;
  /** Location jobs run in (`EU`, `US`, `europe-west1`). @default BigQuery's choice */
  location?: string;
  /** Fail a query that would bill more bytes than this. @default no limit */
  maximumBytesBilled?: number;
  /** The service account key. */
  key: ServiceAccountKey;
  /** API root, for emulators and tests. @default "https://bigquery.googleapis.com" */
  endpoint?: string;
  /** Rows per page of results. @default 10000 */
  pageSize?: number;
  /** The `fetch` to use. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Milliseconds since the epoch, for token lifetimes. @default Date.now */
  now?: () => number;
}

/** A BigQuery client: a {@linkcode SqlClient} that can also dry-run. */
export interface BigQueryClient extends SqlClient {
  /**
   * Asks BigQuery how many bytes a query would process, without running it
   * (a dry run, which is free).
   */
  dryRun(
    sql: string,
    params: readonly unknown[],
    options?: SqlQueryOptions,
  ): Promise<{ totalBytesProcessed: number }>;
}

const SCOPE = "https://www.googleapis.com/auth/bigquery";
const DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token";
const NUMERIC_TYPES = new Set([
  "INTEGER",
  "INT64",
  "FLOAT",
  "FLOAT64",
  "NUMERIC",
  "BIGNUMERIC",
]);

/** The BigQuery type a JavaScript value is bound as. */
function parameterType(value: unknown): string {
  if (typeof value === "boolean") return "BOOL";
  if (typeof value === "bigint") return "INT64";
  if (typeof value === "number") {
    return Number.isInteger(value) ? "INT64" : "FLOAT64";
  }
  return "STRING";
}

interface QueryResponse {
  jobComplete?: boolean;
  jobReference?: { projectId?: string; jobId: string; location?: string };
  schema?: { fields?: { name: string; type: string }[] };
  rows?: { f: { v: unknown }[] }[];
  pageToken?: string;
  totalBytesProcessed?: string;
  errors?: { reason?: string; message?: string }[];
}

/**
 * A client for one project. Each query is a `jobs.query` call with
 * `useLegacySql: false`, named parameters `@p1, @p2, ...` (STRING, INT64,
 * FLOAT64 or BOOL after the value's type), `jobTimeoutMs` from the
 * timeout, the period's time zone as the `time_zone` connection property,
 * the location, `maximumBytesBilled` and the default dataset. A job not
 * complete is polled with `jobs.getQueryResults`; past the timeout it is
 * cancelled (`jobs.cancel`). Only SELECT (or WITH) statements are sent.
 *
 * @param options Project, key and settings.
 * @returns The client.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const client = bigqueryClient({
 *   project: "my-project",
 *   key: { client_email: "kpi@my-project.iam.gserviceaccount.com", private_key: "(a PEM key)" },
 * });
 * assert.equal(client.dialect, "bigquery");
 * await client.close();
 * ```
 */
export function bigqueryClient(options: BigQueryClientOptions): BigQueryClient {
  const doFetch = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const endpoint = (options.endpoint ?? "https://bigquery.googleapis.com")
    .replace(/\/+$/, "");
  const project = options.project;
  const pageSize = options.pageSize ?? 10_000;
  const account = options.key.client_email;
  const where = `BigQuery project "${project}"${
    options.location ? ` (${options.location})` : ""
  } as ${account}`;
  const secret = options.key.private_key;
  const base = `${endpoint}/bigquery/v2/projects/${
    encodeURIComponent(project)
  }`;
  let token: { value: string; expires: number } | null = null;
  let pendingToken: Promise<string> | null = null;
  let signingKey: Promise<CryptoKey> | null = null;
  let closed = false;

  const connectionError = (message: string, cause?: unknown) =>
    new SqlConnectionError(
      `Cannot connect to ${where}: ${hidePassword(message, secret)}`,
      cause === undefined ? undefined : { cause },
    );

  const fetchToken = async (): Promise<string> => {
    signingKey ??= importPrivateKey(secret, `service account ${account}`);
    const tokenUri = options.key.token_uri ?? DEFAULT_TOKEN_URI;
    const iat = Math.floor(now() / 1000);
    const assertion = await signJwt(
      await signingKey,
      options.key.private_key_id ? { kid: options.key.private_key_id } : {},
      { iss: account, scope: SCOPE, aud: tokenUri, iat, exp: iat + 3600 },
    );
    let response: Response;
    try {
      response = await doFetch(tokenUri, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
          assertion,
        }),
      });
    } catch (error) {
      throw connectionError(
        `token endpoint ${new URL(tokenUri).host}: ${
          error instanceof Error ? error.message : String(error)
        }`,
        error,
      );
    }
    const body = await response.json().catch(() => ({})) as {
      access_token?: string;
      expires_in?: number;
      error?: string;
      error_description?: string;
    };
    if (!response.ok || typeof body.access_token !== "string") {
      throw connectionError(
        `the token endpoint refused the service account key (HTTP ${response.status}${
          body.error ? `, ${body.error}` : ""
        }${body.error_description ? `: ${body.error_description}` : ""})`,
      );
    }
    token = {
      value: body.access_token,
      expires: now() + (body.expires_in ?? 3600) * 1000 - 60_000,
    };
    return body.access_token;
  };

  const accessToken = async (): Promise<string> => {
    if (token && token.expires > now()) return token.value;
    pendingToken ??= fetchToken().finally(() => {
      pendingToken = null;
    });
    return await pendingToken;
  };

  const call = async (
    method: "GET" | "POST",
    url: string,
    body?: unknown,
  ): Promise<QueryResponse> => {
    const bearer = await accessToken();
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        headers: {
          Authorization: `Bearer ${bearer}`,
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw connectionError(
        `${new URL(url).host}: ${
          error instanceof Error ? error.message : String(error)
        }`,
        error,
      );
    }
    const json = await response.json().catch(() => ({})) as QueryResponse & {
      error?: {
        code?: number;
        message?: string;
        errors?: { reason?: string }[];
      };
    };
    if (!response.ok) {
      const message = json.error?.message ?? `HTTP ${response.status}`;
      const reason = json.error?.errors?.[0]?.reason ?? "";
      if (response.status === 401 || response.status === 403) {
        if (reason !== "billingTierLimitExceeded") {
          throw connectionError(`${message} (HTTP ${response.status})`);
        }
      }
      if (reason === "jobTimeout" || reason === "timeout") {
        throw new SqlTimeoutError(message);
      }
      throw new Error(`BigQuery: ${message}${reason ? ` (${reason})` : ""}`);
    }
    return json;
  };

  const request = (
    sql: string,
    params: readonly unknown[],
    queryOptions: SqlQueryOptions,
    dryRun: boolean,
  ) => {
    const body: Record<string, unknown> = {
      query: sql,
      useLegacySql: false,
      parameterMode: "NAMED",
      queryParameters: params.map((value, i) => ({
        name: `p${i + 1}`,
        parameterType: { type: parameterType(value) },
        parameterValue: {
          value: value === null || value === undefined ? null : String(value),
        },
      })),
      connectionProperties: [{
        key: "time_zone",
        value: queryOptions.timezone ?? "UTC",
      }],
      requestId: crypto.randomUUID(),
      maxResults: pageSize,
      dryRun,
    };
    if (options.location) body.location = options.location;
    if (options.maximumBytesBilled !== undefined) {
      body.maximumBytesBilled = String(options.maximumBytesBilled);
    }
    if (options.dataset) {
      body.defaultDataset = { projectId: project, datasetId: options.dataset };
    }
    if (queryOptions.timeoutMs !== undefined) {
      body.timeoutMs = Math.min(queryOptions.timeoutMs, 10_000);
      body.jobTimeoutMs = String(
        Math.max(1, Math.ceil(queryOptions.timeoutMs)),
      );
    } else {
      body.timeoutMs = 10_000;
    }
    return body;
  };

  const jobUrl = (
    job: NonNullable<QueryResponse["jobReference"]>,
    extra: Record<string, string>,
  ) => {
    const search = new URLSearchParams(extra);
    const location = job.location ?? options.location;
    if (location) search.set("location", location);
    return `${base}/queries/${encodeURIComponent(job.jobId)}?${search}`;
  };

  const cancel = async (job: NonNullable<QueryResponse["jobReference"]>) => {
    const search = new URLSearchParams();
    const location = job.location ?? options.location;
    if (location) search.set("location", location);
    try {
      await call(
        "POST",
        `${base}/jobs/${encodeURIComponent(job.jobId)}/cancel?${search}`,
      );
    } catch {
      // The job may have ended meanwhile: nothing left to cancel.
    }
  };

  // Every client here opens query() alike (the SqlClient signature, the
  // closed check, the timeout read); what follows is this driver's own, so
  // the clients share no more than that.
  return {
    dialect: "bigquery",
    async query(
      text: string,
      params: readonly unknown[],
      queryOptions: SqlQueryOptions = {},
    ): Promise<unknown[][]> {
      if (closed) throw new Error("The BigQuery client is closed");
      assertSelect(text, "BigQuery");
      const started = now();
      const timeoutMs = queryOptions.timeoutMs;
      const remaining = () =>
        timeoutMs === undefined ? Infinity : timeoutMs - (now() - started);
      let page = await call(
        "POST",
        `${base}/queries`,
        request(text, params, queryOptions, false),
      );
      const job = page.jobReference;
      while (!page.jobComplete) {
        if (!job) throw new Error("BigQuery answered without a job reference");
        if (remaining() <= 0 || closed) {
          await cancel(job);
          throw new SqlTimeoutError(
            `Query canceled after ${timeoutMs} ms (timeout_ms): job ${job.jobId} cancelled`,
          );
        }
        page = await call(
          "GET",
          jobUrl(job, {
            timeoutMs: String(Math.max(1, Math.min(remaining(), 10_000))),
            maxResults: String(pageSize),
          }),
        );
      }
      if (page.errors && page.errors.length > 0) {
        throw new Error(
          `BigQuery: ${page.errors.map((e) => e.message).join("; ")}`,
        );
      }
      const types = (page.schema?.fields ?? []).map((field) =>
        field.type.toUpperCase()
      );
      const rows: unknown[][] = [];
      const take = (response: QueryResponse) => {
        for (const row of response.rows ?? []) {
          rows.push(row.f.map((cell, i) => {
            const value = cell.v;
            if (value === null || value === undefined) return null;
            const type = types[i] ?? "STRING";
            if (NUMERIC_TYPES.has(type)) return Number(value);
            if (type === "BOOLEAN" || type === "BOOL") return value === "true";
            return value;
          }));
        }
      };
      take(page);
      while (page.pageToken) {
        if (!job) break;
        page = await call(
          "GET",
          jobUrl(job, {
            pageToken: page.pageToken,
            maxResults: String(pageSize),
          }),
        );
        take(page);
      }
      return rows;
    },
    async dryRun(
      sql: string,
      params: readonly unknown[],
      queryOptions: SqlQueryOptions = {},
    ): Promise<{ totalBytesProcessed: number }> {
      assertSelect(sql, "BigQuery");
      const response = await call(
        "POST",
        `${base}/queries`,
        request(sql, params, queryOptions, true),
      );
      return { totalBytesProcessed: Number(response.totalBytesProcessed ?? 0) };
    },
    async estimateBytes(
      sql: string,
      params: readonly unknown[],
      queryOptions: SqlQueryOptions = {},
    ): Promise<number> {
      assertSelect(sql, "BigQuery");
      const response = await call(
        "POST",
        `${base}/queries`,
        request(sql, params, queryOptions, true),
      );
      return Number(response.totalBytesProcessed ?? 0);
    },
    close(): Promise<void> {
      closed = true;
      return Promise.resolve();
    },
  };
}

// OpenBigQueryClientOptions and its opener read like OpenSnowflakeClientOptions (snowflake/) on purpose: the
// options and docs name this warehouse's own key settings; how both find
// the key is shared in ../_url_key.ts.
/** Options of {@linkcode openBigQueryClient}. */
export interface OpenBigQueryClientOptions {
  /** The folder a relative `key_file` resolves against. @default the current working directory */
  baseDir?: string;
  /**
   * Environment variables read for the key:
   * `GOOGLE_APPLICATION_CREDENTIALS_JSON` (the key itself) or
   * `GOOGLE_APPLICATION_CREDENTIALS` (a path).
   *
   * @default Deno.env.toObject()
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** The `fetch` to use. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * Opens a client from `bigquery://PROJECT[/DATASET]?location=EU&maximum_bytes_billed=N&key_file=PATH`.
 * The key comes from `key_file` (relative to `baseDir`), else from
 * `GOOGLE_APPLICATION_CREDENTIALS_JSON` (the JSON itself, for Deno
 * Deploy), else from the file `GOOGLE_APPLICATION_CREDENTIALS` names.
 * `endpoint=` points the client at an emulator. Nothing is sent until the
 * first query.
 *
 * @param url The URL.
 * @param options Base folder, environment, `fetch`.
 * @returns The client.
 * @throws {TypeError} When the URL cannot be read or no key is found (the
 * message never shows a key).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   openBigQueryClient("bigquery://my-project/analytics?location=EU", { env: {} }),
 *   /No service account key for BigQuery project "my-project"/,
 * );
 * ```
 */
export async function openBigQueryClient(
  url: string,
  options: OpenBigQueryClientOptions = {},
): Promise<BigQueryClient> {
  const m = /^bigquery:\/\/([^/?#]+)(?:\/([^/?#]+))?\/?(?:\?(.*))?$/i.exec(
    url,
  );
  if (!m) {
    throw new TypeError(
      `Invalid BigQuery URL "${url}": expected bigquery://PROJECT or bigquery://PROJECT/DATASET, with settings such as ?location=EU&maximum_bytes_billed=10000000000&key_file=./key.json`,
    );
  }
  const project = decodeURIComponent(m[1] as string);
  const dataset = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
  const search = new URLSearchParams(m[3] ?? "");
  checkUrlSettings(
    search,
    ["location", "maximum_bytes_billed", "key_file", "endpoint"],
    "BigQuery",
  );
  const { text, source } = await readUrlKey(
    search,
    options.env ?? Deno.env.toObject(),
    options.baseDir,
    {
      setting: "key_file",
      inlineVariable: "GOOGLE_APPLICATION_CREDENTIALS_JSON",
      inlineIs: "the key",
      pathVariable: "GOOGLE_APPLICATION_CREDENTIALS",
      key: "service account key",
      owner: `BigQuery project "${project}"`,
    },
  );
  let key: ServiceAccountKey;
  try {
    key = JSON.parse(text);
  } catch {
    throw new TypeError(
      `The service account key of BigQuery project "${project}" (${source}) is not JSON`,
    );
  }
  if (
    typeof key.client_email !== "string" || typeof key.private_key !== "string"
  ) {
    throw new TypeError(
      `The service account key of BigQuery project "${project}" (${source}) has no client_email or private_key: expected a JSON key of type service_account`,
    );
  }
  const bytes = search.get("maximum_bytes_billed");
  if (bytes !== null && !/^\d+$/.test(bytes)) {
    throw new TypeError(
      `Invalid maximum_bytes_billed "${bytes}" in the BigQuery URL: expected a whole number of bytes`,
    );
  }
  const clientOptions: BigQueryClientOptions = { project, key };
  if (dataset !== undefined) clientOptions.dataset = dataset;
  const location = search.get("location");
  if (location) clientOptions.location = location;
  if (bytes !== null) clientOptions.maximumBytesBilled = Number(bytes);
  const endpoint = search.get("endpoint");
  if (endpoint) clientOptions.endpoint = endpoint;
  if (options.fetch) clientOptions.fetch = options.fetch;
  return bigqueryClient(clientOptions);
}
