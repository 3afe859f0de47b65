/**
 * Loopback stand-ins for BigQuery's REST API and Snowflake's SQL API v2,
 * for the tests: they implement the documented request and response shapes
 * (authentication checked against the public key, named or positional
 * bindings, asynchronous jobs polled, result pages or partitions, errors,
 * cancellation) and run the SQL they receive on a real DuckDB database
 * after swapping only the placeholders (`@p1` and `?` to DuckDB's) and, for
 * BigQuery, backtick quotes to double quotes. So the numbers are computed
 * by a real engine from the SQL the clients send, but that engine speaks
 * DuckDB's dialect, not BigQuery's or Snowflake's.
 *
 * @module
 */

import { DuckDBInstance } from "@duckdb/node-api";

type Connection = Awaited<ReturnType<DuckDBInstance["connect"]>>;

/** An RSA key pair, the private half as PKCS #8 PEM. */
export interface TestKeyPair {
  privatePem: string;
  publicKey: CryptoKey;
  /** `SHA256:` + base64 SHA-256 of the DER public key. */
  fingerprint: string;
}

function base64(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  const padded = text.replaceAll("-", "+").replaceAll("_", "/") +
    "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

/** Makes a key pair. */
export async function makeKeyPair(): Promise<TestKeyPair> {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  const pkcs8 = new Uint8Array(
    await crypto.subtle.exportKey("pkcs8", pair.privateKey),
  );
  const spki = new Uint8Array(
    await crypto.subtle.exportKey("spki", pair.publicKey),
  );
  const lines = base64(pkcs8).match(/.{1,64}/g) ?? [];
  return {
    privatePem: `-----BEGIN PRIVATE KEY-----\n${
      lines.join("\n")
    }\n-----END PRIVATE KEY-----\n`,
    publicKey: pair.publicKey,
    fingerprint: `SHA256:${
      base64(new Uint8Array(await crypto.subtle.digest("SHA-256", spki)))
    }`,
  };
}

/** Verifies an RS256 JWT with a public key; returns header and claims, or null. */
export async function verifyJwt(
  jwt: string,
  publicKey: CryptoKey,
): Promise<
  { header: Record<string, unknown>; claims: Record<string, unknown> } | null
> {
  const parts = jwt.split(".");
  if (parts.length !== 3) return null;
  const [h, c, s] = parts as [string, string, string];
  const ok = await crypto.subtle.verify(
    "RSASSA-PKCS1-v1_5",
    publicKey,
    fromBase64url(s),
    new TextEncoder().encode(`${h}.${c}`),
  );
  if (!ok) return null;
  const decode = (part: string) =>
    JSON.parse(new TextDecoder().decode(fromBase64url(part)));
  return { header: decode(h), claims: decode(c) };
}

/** A result as the fakes answer it: column types and values as text. */
interface TextResult {
  columns: { name: string; type: string }[];
  rows: (string | null)[][];
}

/** Runs SQL on DuckDB with parameters bound by name or position. */
export async function runOnDuckDB(
  db: FakeDatabase,
  sql: string,
  params: unknown[] | Record<string, unknown>,
  timezone: string,
): Promise<TextResult> {
  const connection = await db.instance.connect();
  try {
    return await runOn(connection, sql, params, timezone);
  } finally {
    connection.closeSync();
  }
}

async function runOn(
  connection: Connection,
  sql: string,
  params: unknown[] | Record<string, unknown>,
  timezone: string,
): Promise<TextResult> {
  await connection.run(`SET TimeZone = '${timezone.replaceAll("'", "''")}'`);
  const prepared = await connection.prepare(sql);
  prepared.bind(params as never);
  const reader = await prepared.runAndReadAll();
  const names = reader.columnNames();
  const types = reader.columnTypes().map((t) => String(t));
  return {
    columns: names.map((name, i) => ({ name, type: types[i] as string })),
    rows: reader.getRows().map((row) =>
      row.map((v) => v === null ? null : String(v))
    ),
  };
}

/** The DuckDB database behind a fake, and a writable handle on it. */
export interface FakeDatabase {
  instance: DuckDBInstance;
  connection: Connection;
  close(): void;
}

/** Opens an in-memory DuckDB database for a fake. */
export async function fakeDatabase(): Promise<FakeDatabase> {
  // One thread: sums in row order, the same on every run.
  const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  const connection = await instance.connect();
  return {
    instance,
    connection,
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });

/** What a fake saw. */
export interface FakeLog {
  /** Every request: method, path and search, parsed JSON body. */
  requests: { method: string; path: string; body: unknown }[];
  /** Ids of jobs or statements cancelled. */
  cancelled: string[];
  /** Tokens issued (BigQuery) or JWTs accepted (Snowflake). */
  tokens: number;
  /** JWT claims and headers accepted. */
  jwts: { header: Record<string, unknown>; claims: Record<string, unknown> }[];
}

/** Settings a test changes while the fake runs. */
export interface FakeControls {
  /** A query's result is ready only this long after it was sent. */
  delayMs: number;
  /** Rows per page (BigQuery) or per partition (Snowflake). */
  pageSize: number;
  /** Longest a request waits for a job before answering "not complete". */
  maxWaitMs: number;
}

interface Job {
  id: string;
  ready: Promise<TextResult | { error: string }>;
  readyAt: number;
  cancelled: boolean;
  location: string | undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the job is ready or `ms` passed; true when ready. */
async function waitFor(job: Job, ms: number): Promise<boolean> {
  const wait = job.readyAt - Date.now();
  if (wait > ms) {
    await sleep(Math.max(0, ms));
    return false;
  }
  await sleep(Math.max(0, wait));
  return true;
}

const BQ_TYPES: [RegExp, string][] = [
  [/^(BIGINT|INTEGER|HUGEINT|UBIGINT|SMALLINT|TINYINT|UINTEGER)$/, "INTEGER"],
  [/^(DOUBLE|FLOAT|REAL)$/, "FLOAT"],
  [/^DECIMAL/, "NUMERIC"],
  [/^BOOLEAN$/, "BOOLEAN"],
  [/^DATE$/, "DATE"],
  [/^TIMESTAMP/, "TIMESTAMP"],
];

function bigqueryType(duckdbType: string): string {
  for (const [pattern, type] of BQ_TYPES) {
    if (pattern.test(duckdbType)) return type;
  }
  return "STRING";
}

/** A fake BigQuery. */
export interface FakeBigQuery {
  /** API root to give the client (`endpoint=`). */
  endpoint: string;
  /** The service account key the client signs with. */
  key: {
    type: string;
    client_email: string;
    private_key: string;
    private_key_id: string;
    token_uri: string;
    project_id: string;
  };
  log: FakeLog;
  controls: FakeControls;
  /** Bytes a dry run reports. */
  dryRunBytes: number;
  close(): Promise<void>;
}

/** Starts a fake BigQuery on 127.0.0.1 over a DuckDB database. */
export async function startFakeBigQuery(
  db: FakeDatabase,
  project: string,
): Promise<FakeBigQuery> {
  const keys = await makeKeyPair();
  const log: FakeLog = { requests: [], cancelled: [], tokens: 0, jwts: [] };
  const controls: FakeControls = { delayMs: 0, pageSize: 2, maxWaitMs: 10_000 };
  const issued = new Set<string>();
  const jobs = new Map<string, Job>();
  let origin = "";
  const email = `kpi-reader@${project}.iam.gserviceaccount.com`;
  const keyId = "key-1";
  const fake: FakeBigQuery = {
    endpoint: "",
    key: {
      type: "service_account",
      client_email: email,
      private_key: keys.privatePem,
      private_key_id: keyId,
      token_uri: "",
      project_id: project,
    },
    log,
    controls,
    dryRunBytes: 123_456_789,
    close: async () => {},
  };
  const bqError = (status: number, message: string, reason: string) =>
    json(status, {
      error: { code: status, message, errors: [{ reason, message }] },
    });

  const page = (job: Job, result: TextResult, offset: number, max: number) => {
    const size = Math.min(max, controls.pageSize);
    const rows = result.rows.slice(offset, offset + size);
    const next = offset + size;
    return {
      kind: "bigquery#queryResponse",
      jobReference: {
        projectId: project,
        jobId: job.id,
        location: job.location,
      },
      jobComplete: true,
      schema: {
        fields: result.columns.map((c) => ({
          name: c.name,
          type: bigqueryType(c.type),
          mode: "NULLABLE",
        })),
      },
      totalRows: String(result.rows.length),
      rows: rows.map((row) => ({ f: row.map((v) => ({ v })) })),
      ...(next < result.rows.length ? { pageToken: String(next) } : {}),
    };
  };

  const answer = async (
    job: Job,
    waitMs: number,
    offset: number,
    max: number,
  ) => {
    if (job.cancelled) {
      return bqError(400, `Job ${job.id} was cancelled`, "stopped");
    }
    if (!(await waitFor(job, Math.min(waitMs, controls.maxWaitMs)))) {
      return json(200, {
        kind: "bigquery#queryResponse",
        jobReference: {
          projectId: project,
          jobId: job.id,
          location: job.location,
        },
        jobComplete: false,
      });
    }
    const result = await job.ready;
    if ("error" in result) return bqError(400, result.error, "invalidQuery");
    return json(200, page(job, result, offset, max));
  };

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const url = new URL(request.url);
      const text = await request.text();
      let body: unknown = text;
      try {
        body = text === "" ? null : JSON.parse(text);
      } catch {
        // A form body (the token request).
      }
      log.requests.push({
        method: request.method,
        path: url.pathname + url.search,
        body,
      });
      if (url.pathname === "/token") {
        const form = new URLSearchParams(text);
        const jwt = form.get("assertion") ?? "";
        const verified = await verifyJwt(jwt, keys.publicKey);
        const now = Math.floor(Date.now() / 1000);
        const c = verified?.claims;
        if (
          form.get("grant_type") !==
            "urn:ietf:params:oauth:grant-type:jwt-bearer" ||
          !verified || verified.header["alg"] !== "RS256" ||
          verified.header["kid"] !== keyId || c?.["iss"] !== email ||
          c?.["aud"] !== fake.key.token_uri ||
          c?.["scope"] !== "https://www.googleapis.com/auth/bigquery" ||
          typeof c?.["iat"] !== "number" ||
          Math.abs((c["iat"] as number) - now) > 60 ||
          (c["exp"] as number) - (c["iat"] as number) !== 3600
        ) {
          return json(400, {
            error: "invalid_grant",
            error_description: "Invalid JWT Signature.",
          });
        }
        log.jwts.push(verified);
        log.tokens++;
        const token = `ya29.${crypto.randomUUID()}`;
        issued.add(token);
        return json(200, {
          access_token: token,
          expires_in: 3599,
          token_type: "Bearer",
        });
      }
      const bearer = /^Bearer (.+)$/.exec(
        request.headers.get("Authorization") ?? "",
      )?.[1];
      if (!bearer || !issued.has(bearer)) {
        return bqError(
          401,
          "Request had invalid authentication credentials.",
          "unauthorized",
        );
      }
      const base = `/bigquery/v2/projects/${project}`;
      if (request.method === "POST" && url.pathname === `${base}/queries`) {
        const q = body as {
          query: string;
          useLegacySql?: boolean;
          parameterMode?: string;
          queryParameters?: {
            name: string;
            parameterType: { type: string };
            parameterValue: { value: string | null };
          }[];
          connectionProperties?: { key: string; value: string }[];
          timeoutMs?: number;
          maxResults?: number;
          location?: string;
          dryRun?: boolean;
        };
        if (q.useLegacySql !== false || q.parameterMode !== "NAMED") {
          return bqError(
            400,
            "Expected standard SQL with named parameters",
            "invalid",
          );
        }
        const params: Record<string, unknown> = {};
        for (const p of q.queryParameters ?? []) {
          const v = p.parameterValue.value;
          const type = p.parameterType.type;
          params[p.name] = v === null
            ? null
            : type === "INT64" || type === "FLOAT64"
            ? Number(v)
            : type === "BOOL"
            ? v === "true"
            : v;
        }
        const timezone = q.connectionProperties?.find((p) =>
          p.key === "time_zone"
        )?.value ?? "UTC";
        // BigQuery's REGEXP_CONTAINS is DuckDB's regexp_matches.
        const sql = q.query.replaceAll("`", '"').replace(
          /@(p\d+)\b/g,
          "$$$1",
        ).replaceAll("REGEXP_CONTAINS(", "regexp_matches(");
        if (q.dryRun) {
          return json(200, {
            kind: "bigquery#queryResponse",
            jobComplete: true,
            totalBytesProcessed: String(fake.dryRunBytes),
          });
        }
        const id = `job_${crypto.randomUUID().replaceAll("-", "")}`;
        const job: Job = {
          id,
          readyAt: Date.now() + controls.delayMs,
          cancelled: false,
          location: q.location ?? "US",
          ready: runOnDuckDB(db, sql, params, timezone).catch(
            (error) => ({
              error: error instanceof Error ? error.message : String(error),
            }),
          ),
        };
        jobs.set(id, job);
        return await answer(job, q.timeoutMs ?? 10_000, 0, q.maxResults ?? 1e9);
      }
      const results = new RegExp(`^${base}/queries/([^/]+)$`).exec(
        url.pathname,
      );
      if (request.method === "GET" && results) {
        const job = jobs.get(results[1] as string);
        if (!job) return bqError(404, "Not found: Job", "notFound");
        return await answer(
          job,
          Number(url.searchParams.get("timeoutMs") ?? 10_000),
          Number(url.searchParams.get("pageToken") ?? 0),
          Number(url.searchParams.get("maxResults") ?? 1e9),
        );
      }
      const cancel = new RegExp(`^${base}/jobs/([^/]+)/cancel$`).exec(
        url.pathname,
      );
      if (request.method === "POST" && cancel) {
        const job = jobs.get(cancel[1] as string);
        if (!job) return bqError(404, "Not found: Job", "notFound");
        job.cancelled = true;
        log.cancelled.push(job.id);
        return json(200, { kind: "bigquery#jobCancelResponse" });
      }
      return bqError(
        404,
        `No route ${request.method} ${url.pathname}`,
        "notFound",
      );
    },
  );
  origin = `http://127.0.0.1:${server.addr.port}`;
  fake.endpoint = origin;
  fake.key.token_uri = `${origin}/token`;
  fake.close = async () => {
    await server.shutdown();
  };
  return fake;
}

const SNOWFLAKE_TYPES: [RegExp, string][] = [
  [
    /^(BIGINT|INTEGER|HUGEINT|UBIGINT|SMALLINT|TINYINT|UINTEGER|DECIMAL)/,
    "fixed",
  ],
  [/^(DOUBLE|FLOAT|REAL)$/, "real"],
  [/^BOOLEAN$/, "boolean"],
  [/^DATE$/, "date"],
];

function snowflakeType(duckdbType: string): string {
  for (const [pattern, type] of SNOWFLAKE_TYPES) {
    if (pattern.test(duckdbType)) return type;
  }
  return "text";
}

/** A fake Snowflake. */
export interface FakeSnowflake {
  /** API root to give the client (`endpoint=`). */
  endpoint: string;
  /** The user's private key (PKCS #8 PEM). */
  privateKey: string;
  /** `SHA256:...` of the user's public key. */
  fingerprint: string;
  log: FakeLog;
  controls: FakeControls;
  close(): Promise<void>;
}

/** Starts a fake Snowflake SQL API v2 on 127.0.0.1 over a DuckDB database. */
export async function startFakeSnowflake(
  db: FakeDatabase,
  account: string,
  user: string,
): Promise<FakeSnowflake> {
  const keys = await makeKeyPair();
  const log: FakeLog = { requests: [], cancelled: [], tokens: 0, jwts: [] };
  const controls: FakeControls = {
    delayMs: 0,
    pageSize: 2,
    maxWaitMs: 45_000,
  };
  const statements = new Map<string, Job>();
  const error = (status: number, code: string, message: string) =>
    json(status, { code, message, sqlState: "42000" });

  const result = (handle: string, res: TextResult, partition: number) => {
    const size = controls.pageSize;
    const count = Math.max(1, Math.ceil(res.rows.length / size));
    const data = res.rows.slice(partition * size, (partition + 1) * size);
    if (partition > 0) return json(200, { data });
    return json(200, {
      resultSetMetaData: {
        numRows: res.rows.length,
        format: "jsonv2",
        rowType: res.columns.map((c) => ({
          name: c.name.toUpperCase(),
          type: snowflakeType(c.type),
          nullable: true,
        })),
        partitionInfo: Array.from({ length: count }, (_, i) => ({
          rowCount: Math.min(size, res.rows.length - i * size),
        })),
      },
      data,
      code: "090001",
      statementStatusUrl: `/api/v2/statements/${handle}`,
      statementHandle: handle,
      message: "Statement executed successfully.",
    });
  };

  const answer = async (job: Job, waitMs: number, partition: number) => {
    if (job.cancelled) return error(422, "000604", "SQL execution canceled");
    if (!(await waitFor(job, Math.min(waitMs, controls.maxWaitMs)))) {
      return json(202, {
        code: "333334",
        message:
          "Asynchronous execution in progress. Use provided query id to perform query monitoring and management.",
        statementHandle: job.id,
        statementStatusUrl: `/api/v2/statements/${job.id}`,
      });
    }
    const res = await job.ready;
    if ("error" in res) {
      return json(422, {
        code: "002003",
        message: `SQL compilation error:\n${res.error}`,
        sqlState: "42S02",
        statementHandle: job.id,
      });
    }
    return result(job.id, res, partition);
  };

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const url = new URL(request.url);
      const text = await request.text();
      const body = text === "" ? null : JSON.parse(text);
      log.requests.push({
        method: request.method,
        path: url.pathname + url.search,
        body,
      });
      const bearer = /^Bearer (.+)$/.exec(
        request.headers.get("Authorization") ?? "",
      )?.[1];
      const verified = bearer ? await verifyJwt(bearer, keys.publicKey) : null;
      const now = Math.floor(Date.now() / 1000);
      const c = verified?.claims;
      const who = `${account.toUpperCase()}.${user.toUpperCase()}`;
      if (
        request.headers.get("X-Snowflake-Authorization-Token-Type") !==
          "KEYPAIR_JWT" ||
        !verified ||
        verified.header["alg"] !== "RS256" ||
        c?.["iss"] !== `${who}.${keys.fingerprint}` || c?.["sub"] !== who ||
        typeof c?.["iat"] !== "number" ||
        Math.abs((c["iat"] as number) - now) > 60 ||
        (c["exp"] as number) - (c["iat"] as number) > 3600
      ) {
        return error(401, "390144", "JWT token is invalid.");
      }
      if (!log.jwts.some((j) => j.claims["iat"] === c["iat"])) {
        log.jwts.push(verified);
        log.tokens++;
      }
      if (request.method === "POST" && url.pathname === "/api/v2/statements") {
        const q = body as {
          statement: string;
          bindings?: Record<string, { type: string; value: string | null }>;
          parameters?: Record<string, string>;
          timeout?: number;
        };
        const params = Object.keys(q.bindings ?? {})
          .sort((a, b) => Number(a) - Number(b))
          .map((k) => {
            const { type, value } = (q.bindings ?? {})[k] as {
              type: string;
              value: string | null;
            };
            return value === null
              ? null
              : type === "FIXED" || type === "REAL"
              ? Number(value)
              : type === "BOOLEAN"
              ? value === "true"
              : value;
          });
        const handle = crypto.randomUUID();
        const job: Job = {
          id: handle,
          readyAt: Date.now() + controls.delayMs,
          cancelled: false,
          location: undefined,
          // Snowflake's REGEXP_LIKE (whole string) is DuckDB's
          // regexp_full_match.
          ready: runOnDuckDB(
            db,
            q.statement.replaceAll("REGEXP_LIKE(", "regexp_full_match("),
            params,
            q.parameters?.["timezone"] ?? "UTC",
          ).catch((e) => ({
            error: e instanceof Error ? e.message : String(e),
          })),
        };
        statements.set(handle, job);
        return await answer(job, 45_000, 0);
      }
      const status = /^\/api\/v2\/statements\/([^/]+)$/.exec(url.pathname);
      if (request.method === "GET" && status) {
        const job = statements.get(status[1] as string);
        if (!job) return error(404, "000709", "Statement not found");
        return await answer(
          job,
          0,
          Number(url.searchParams.get("partition") ?? 0),
        );
      }
      const cancel = /^\/api\/v2\/statements\/([^/]+)\/cancel$/.exec(
        url.pathname,
      );
      if (request.method === "POST" && cancel) {
        const job = statements.get(cancel[1] as string);
        if (!job) return error(404, "000709", "Statement not found");
        job.cancelled = true;
        log.cancelled.push(job.id);
        return json(200, {
          code: "000604",
          message: "SQL execution canceled",
          statementHandle: job.id,
        });
      }
      return error(404, "000404", `No route ${request.method} ${url.pathname}`);
    },
  );
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    privateKey: keys.privatePem,
    fingerprint: keys.fingerprint,
    log,
    controls,
    close: async () => {
      await server.shutdown();
    },
  };
}
