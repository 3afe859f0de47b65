import assert from "node:assert/strict";
import {
  compileTemplate,
  templateVariables,
} from "../src/sql/compile_template.ts";

const P = { period_start: "2024-11-01", period_end: "2024-12-01" };

Deno.test("compileTemplate() binds quoted and bare variables alike on every dialect", () => {
  const template =
    "SELECT SUM(a) FROM t WHERE d >= '{{ period_start }}' AND d < {{period_end}} AND r = \"{{ region }}\"";
  const vars = { ...P, region: "EU" };
  assert.deepEqual(compileTemplate(template, "sqlite", vars), {
    sql: "SELECT SUM(a) FROM t WHERE d >= ? AND d < ? AND r = ?",
    params: ["2024-11-01", "2024-12-01", "EU"],
  });
  assert.equal(
    compileTemplate(template, "mysql", vars).sql,
    "SELECT SUM(a) FROM t WHERE d >= ? AND d < ? AND r = ?",
  );
  assert.deepEqual(compileTemplate(template, "postgres", vars), {
    sql: "SELECT SUM(a) FROM t WHERE d >= $1 AND d < $2 AND r = $3",
    params: ["2024-11-01", "2024-12-01", "EU"],
  });
});

Deno.test("compileTemplate() keeps the reference package's '{{ period_start }}'::date working on PostgreSQL", () => {
  const { sql, params } = compileTemplate(
    "SELECT SUM(amount) FROM orders\nWHERE order_date >= '{{ period_start }}'::date\nAND order_date < '{{ period_end }}'::date\n",
    "postgres",
    P,
  );
  assert.equal(
    sql,
    "SELECT SUM(amount) FROM orders\nWHERE order_date >= $1::date\nAND order_date < $2::date\n",
  );
  assert.deepEqual(params, ["2024-11-01", "2024-12-01"]);
});

Deno.test("compileTemplate() names an unknown variable and lists the known ones", () => {
  assert.throws(
    () =>
      compileTemplate("SELECT {{ regoin }}", "sqlite", { ...P, region: "EU" }),
    (error: Error) =>
      error instanceof RangeError &&
      error.message ===
        'Unknown template variable "regoin": expected one of period_start, period_end, region',
  );
});

Deno.test("compileTemplate() passes a value full of SQL as a parameter, never as text", () => {
  const evil = "'; DROP TABLE orders; --";
  for (const dialect of ["sqlite", "postgres", "mysql"] as const) {
    const { sql, params } = compileTemplate(
      "SELECT 1 WHERE r = '{{ r }}' OR r = {{ r }}",
      dialect,
      { r: evil },
    );
    assert.doesNotMatch(sql, /DROP/);
    assert.deepEqual(params, [evil, evil]);
  }
});

Deno.test("compileTemplate() leaves ?, $1 and {{ in strings, identifiers and comments alone", () => {
  const template =
    "SELECT \"a?b\", 'x?$1''{{' -- {{ nope }} ?\n/* $1 {{ nope }} */ FROM t WHERE d >= {{ period_start }}";
  const sqlite = compileTemplate(template, "sqlite", P);
  assert.equal(sqlite.sql, template.replace("{{ period_start }}", "?"));
  assert.deepEqual(sqlite.params, ["2024-11-01"]);
  const pg = compileTemplate(template, "postgres", P);
  assert.equal(pg.sql, template.replace("{{ period_start }}", "$1"));
  assert.deepEqual(templateVariables(template), ["period_start"]);
});

Deno.test("compileTemplate() refuses a driver parameter of the template's own, outside strings", () => {
  assert.throws(
    () => compileTemplate("SELECT ? + {{ period_start }}", "sqlite", P),
    /driver parameter "\?"/,
  );
  assert.throws(
    () => compileTemplate("SELECT :name", "sqlite", P),
    /driver parameter ":name"/,
  );
  assert.throws(
    () => compileTemplate("SELECT ?", "mysql", P),
    /driver parameter "\?"/,
  );
  assert.throws(
    () => compileTemplate("SELECT $1::int", "postgres", P),
    /driver parameter "\$1"/,
  );
  // PostgreSQL's jsonb operator ? and identifiers holding $ are plain SQL there.
  assert.equal(
    compileTemplate("SELECT doc ? 'k', a$1 FROM t", "postgres", P).sql,
    "SELECT doc ? 'k', a$1 FROM t",
  );
});

Deno.test("compileTemplate() turns a variable inside a longer string into a concatenation", () => {
  const t = "SELECT COUNT(*) FROM t WHERE r LIKE '%{{ q }}%'";
  assert.deepEqual(compileTemplate(t, "sqlite", { q: "E" }), {
    sql: "SELECT COUNT(*) FROM t WHERE r LIKE ('%' || ? || '%')",
    params: ["E"],
  });
  assert.equal(
    compileTemplate(t, "postgres", { q: "E" }).sql,
    "SELECT COUNT(*) FROM t WHERE r LIKE ('%' || $1::text || '%')",
  );
  assert.equal(
    compileTemplate(t, "mysql", { q: "E" }).sql,
    "SELECT COUNT(*) FROM t WHERE r LIKE CONCAT('%', ?, '%')",
  );
});

Deno.test("compileTemplate() writes typed literals as casts of the bound value", () => {
  assert.equal(
    compileTemplate(
      "WHERE d >= DATE '{{ period_start }}' AND i < INTERVAL '{{ n }} days'",
      "postgres",
      { ...P, n: 3 },
    ).sql,
    "WHERE d >= CAST($1 AS DATE) AND i < CAST(($2::text || ' days') AS INTERVAL)",
  );
  assert.equal(
    compileTemplate(
      "WHERE t >= TIMESTAMP '{{ period_start }}' AND t < DATE_ADD(d, INTERVAL '{{ n }}' DAY)",
      "mysql",
      { ...P, n: 3 },
    ).sql,
    "WHERE t >= CAST(? AS DATETIME) AND t < DATE_ADD(d, INTERVAL ? DAY)",
  );
  // CURRENT_DATE is a word of its own, not the DATE keyword.
  assert.equal(
    compileTemplate("SELECT CURRENT_DATE '{{ x }}'", "postgres", { x: 1 }).sql,
    "SELECT CURRENT_DATE $1",
  );
});

Deno.test("compileTemplate() follows each dialect's string escapes", () => {
  // MySQL: a backslash escapes the quote, so this is one string.
  assert.deepEqual(
    compileTemplate("SELECT 'it\\'s {{ x }}'", "mysql", { x: "a" }),
    {
      sql: "SELECT CONCAT('it\\'s ', ?)",
      params: ["a"],
    },
  );
  // PostgreSQL: a standard string ends at the second quote; {{ x }} is bare.
  assert.deepEqual(
    compileTemplate("SELECT 'a\\' || {{ x }}", "postgres", { x: "b" }),
    {
      sql: "SELECT 'a\\' || $1",
      params: ["b"],
    },
  );
  // ...but an E'' string honours backslashes, and a whole E'' placeholder binds.
  assert.equal(
    compileTemplate("SELECT E'a\\'{{ x }}', E'{{ x }}'", "postgres", { x: "b" })
      .sql,
    "SELECT (E'a\\'' || $1::text), $2",
  );
  // Dollar quoting.
  assert.equal(
    compileTemplate("SELECT $q${{ x }}$q$, $$ ? $$", "postgres", { x: "b" })
      .sql,
    "SELECT $1, $$ ? $$",
  );
  // MySQL # comments and double-quoted strings.
  assert.equal(
    compileTemplate('SELECT "{{ x }}" # {{ y }}', "mysql", { x: "b" }).sql,
    "SELECT ? # {{ y }}",
  );
});

Deno.test("compileTemplate() refuses variables inside quoted identifiers and non-name expressions", () => {
  assert.throws(
    () => compileTemplate('SELECT "col_{{ x }}" FROM t', "postgres", { x: 1 }),
    SyntaxError,
  );
  assert.throws(
    () => compileTemplate("SELECT `{{ x }}` FROM t", "mysql", { x: 1 }),
    /quoted identifier/,
  );
  assert.throws(
    () => compileTemplate("SELECT {{ x | upper }}", "sqlite", { x: 1 }),
    /Unsupported template expression "\{\{ x \| upper \}\}": expected a variable name/,
  );
});

Deno.test("compileTemplate() binds booleans as 1/0 where the dialect has no boolean parameters", () => {
  assert.deepEqual(
    compileTemplate("SELECT {{ b }}", "sqlite", { b: true }).params,
    [1],
  );
  assert.deepEqual(
    compileTemplate("SELECT {{ b }}", "mysql", { b: false }).params,
    [0],
  );
  assert.deepEqual(
    compileTemplate("SELECT {{ b }}", "postgres", { b: true }).params,
    [true],
  );
});

Deno.test("templateVariables() lists each variable once, in order, outside comments", () => {
  assert.deepEqual(
    templateVariables(
      "SELECT {{ b }}, '{{ a }}', {{ b }} /* {{ c }} */ FROM t WHERE x LIKE '%{{ d }}%' -- {{ e }}",
    ),
    ["b", "a", "d"],
  );
  assert.deepEqual(
    templateVariables("SELECT 1 # {{ x }}", { dialect: "mysql" }),
    [],
  );
  assert.deepEqual(
    templateVariables("SELECT 1 # {{ x }}", { dialect: "postgres" }),
    ["x"],
  );
});
