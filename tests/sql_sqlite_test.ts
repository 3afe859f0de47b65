import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import {
  defineSqlBackendSuite,
  type SqlFixture,
} from "./_sql_backend_suite.ts";
import {
  openSqlClient,
  sqlitePath,
} from "../src/adapters/sql/open_sql_client.ts";

defineSqlBackendSuite({
  name: "sqlite",
  dialect: "sqlite",
  types: {
    real: "REAL",
    date: "TEXT",
    text: "TEXT",
    bool: "INTEGER",
    float: "REAL",
    decimal: "NUMERIC",
  },
  async open(): Promise<SqlFixture> {
    const dir = await Deno.makeTempDir({ prefix: "kpi_sqlite_" });
    const path = join(dir, "shop.db");
    const admin = new DatabaseSync(path);
    const client = await openSqlClient(`sqlite:${path}`);
    return {
      schema: "main",
      client,
      exec(sql, params = []) {
        admin.prepare(sql).run(
          ...params.map((v) =>
            typeof v === "boolean" ? (v ? 1 : 0) : v
          ) as (string | number | null)[],
        );
        return Promise.resolve();
      },
      scalar(sql) {
        return Promise.resolve(
          Number(Object.values(admin.prepare(sql).get() ?? {})[0]),
        );
      },
      async close() {
        await client.close();
        admin.close();
        await Deno.remove(dir, { recursive: true });
      },
    };
  },
});

Deno.test("sqlitePath() resolves relative paths against baseDir and keeps absolute ones", () => {
  assert.equal(
    sqlitePath("sqlite:./shop.db", "/srv/kpis"),
    "/srv/kpis/shop.db",
  );
  assert.equal(
    sqlitePath("sqlite:data/shop.db", "/srv/kpis"),
    "/srv/kpis/data/shop.db",
  );
  assert.equal(
    sqlitePath("sqlite:///var/db/shop.db", "/srv/kpis"),
    "/var/db/shop.db",
  );
  assert.equal(
    sqlitePath("sqlite:////var/db/shop.db", "/srv/kpis"),
    "/var/db/shop.db",
  );
  assert.equal(
    sqlitePath("sqlite:/var/db/shop.db", "/srv/kpis"),
    "/var/db/shop.db",
  );
  assert.equal(sqlitePath("sqlite::memory:"), ":memory:");
  assert.equal(
    sqlitePath("./shop.sqlite3", "/srv/kpis"),
    "/srv/kpis/shop.sqlite3",
  );
  assert.equal(sqlitePath("postgres://h/db"), null);
  assert.throws(
    () => sqlitePath("sqlite://host/shop.db"),
    /Invalid SQLite URL "sqlite:\/\/host\/shop.db": expected sqlite:.\/relative.db/,
  );
});

Deno.test("openSqlClient() opens a relative sqlite: URL from baseDir, read-only", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const admin = new DatabaseSync(join(dir, "shop.db"));
    admin.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7)");
    admin.close();
    const client = await openSqlClient("sqlite:./shop.db", { baseDir: dir });
    assert.deepEqual(await client.query("SELECT SUM(x) FROM t", []), [[7]]);
    await assert.rejects(
      client.query("INSERT INTO t VALUES (1)", []),
      /readonly/i,
    );
    await client.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openSqlClient() refuses a SQLite file that does not exist, naming it, and creates none", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      openSqlClient(`sqlite:${join(dir, "missing.db")}`),
      (error: Error) =>
        error.message.includes(`"${join(dir, "missing.db")}"`) &&
        /Cannot open SQLite database "[^"]*": the file does not exist/.test(
          error.message,
        ),
    );
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openSqlClient() wraps a DatabaseSync without closing it, and restores query_only", async () => {
  const db = new DatabaseSync(":memory:");
  db.exec("CREATE TABLE t (x REAL); INSERT INTO t VALUES (1.5), (2)");
  const client = await openSqlClient(db);
  assert.equal(client.dialect, "sqlite");
  assert.deepEqual(
    await client.query("SELECT SUM(x) FROM t WHERE x > ?", [0]),
    [[3.5]],
  );
  await assert.rejects(
    client.query("DELETE FROM t", []),
    /query_only|readonly/i,
  );
  await client.close();
  assert.equal(db.isOpen, true);
  db.exec("INSERT INTO t VALUES (3)");
  assert.equal(
    Object.values(db.prepare("SELECT COUNT(*) FROM t").get() ?? {})[0],
    3,
  );
  db.close();
});

Deno.test("openSqlClient() returns big integers exactly as bigint and small ones as numbers", async () => {
  const client = await openSqlClient("sqlite::memory:");
  assert.deepEqual(await client.query("SELECT 9007199254740993, 42", []), [[
    9007199254740993n,
    42,
  ]]);
  await client.close();
});

Deno.test("openSqlClient() names the accepted forms for an unknown URL, hiding its password", async () => {
  await assert.rejects(
    openSqlClient("oracle://scott:tiger@db/x"),
    (error: Error) =>
      error instanceof TypeError && !error.message.includes("tiger") &&
      /expected one starting with sqlite:, postgres:\/\/, postgresql:\/\/, mysql:\/\/, mariadb:\/\/, duckdb:/
        .test(error.message),
  );
  await assert.rejects(openSqlClient(42), /Cannot use a number as a database/);
});
