import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { Ajv2020 } from "ajv/dist/2020.js";
import { kpiConfigJsonSchema, parseKpis } from "../mod.ts";
import { listSchemaKeys } from "../src/config/kpi_config_json_schema.ts";
import { KEY_DESCRIPTIONS } from "../src/config/_key_descriptions.ts";

const root = new URL("../", import.meta.url);
const read = (path: string) => Deno.readTextFileSync(new URL(path, root));

function validator() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  return ajv.compile(kpiConfigJsonSchema());
}

Deno.test("kpiConfigJsonSchema() matches the committed schema/kpis.schema.json (run `deno task schema` after changing the config schema)", () => {
  const committed = JSON.parse(read("schema/kpis.schema.json"));
  assert.deepEqual(committed, kpiConfigJsonSchema());
});

Deno.test("kpiConfigJsonSchema() describes every key, and every description names a key", () => {
  const keys = listSchemaKeys(kpiConfigJsonSchema());
  const undescribed = keys.filter((key) => !key.description).map((key) =>
    key.path
  );
  assert.deepEqual(undescribed, [], "keys without a description");
  const paths = new Set(keys.map((key) => key.path));
  const stale = Object.keys(KEY_DESCRIPTIONS).filter((path) =>
    !paths.has(path)
  );
  assert.deepEqual(stale, [], "descriptions of keys the schema lacks");
  assert.ok(keys.length > 50);
});

Deno.test("kpiConfigJsonSchema() has enums for sources, aggregations, comparisons, polarities, severities and channel types", () => {
  // deno-lint-ignore no-explicit-any
  const schema = kpiConfigJsonSchema() as any;
  const kpi = schema.properties.kpis.items.properties;
  assert.deepEqual(kpi.source.enum, ["sql", "dataframe", "derived"]);
  assert.deepEqual(kpi.aggregation.enum, [
    "sum",
    "avg",
    "count",
    "last",
    "rate",
  ]);
  assert.deepEqual(kpi.compare.items.enum, ["DoD", "WoW", "MoM", "QoQ", "YoY"]);
  assert.deepEqual(kpi.polarity.enum, ["higher_is_better", "lower_is_better"]);
  assert.deepEqual(kpi.alerts.items.properties.severity.enum, [
    "info",
    "warning",
    "critical",
  ]);
  const types = schema.properties.channels.additionalProperties.oneOf.map((
    variant: { properties: { type: { const: string } } },
  ) => variant.properties.type.const);
  assert.deepEqual(types, ["slack", "email", "pagerduty", "webhook"]);
});

Deno.test("every valid file passes the JSON Schema (ajv) as it passes parseKpis", () => {
  const validate = validator();
  const files = [
    "kpis.example.yaml",
    "tests/fixtures/reference_quickstart.yaml",
    "tests/fixtures/channels_and_history.yaml",
  ];
  for (const file of files) {
    const text = read(file);
    const data = parseYaml(text, { merge: true });
    assert.ok(validate(data), `${file}: ${JSON.stringify(validate.errors)}`);
  }
  const inline = [
    // ${VAR} where a number or boolean goes: the file is expanded on load.
    `channels:
  mail: { type: email, smtp_host: mx, smtp_port: "\${SMTP_PORT}", from: a@b.c, to: [d@e.f], secure: "\${SMTP_TLS:-false}" }
kpis: []`,
    // x- keys hold anchors.
    `x-common: &common { source: derived }
kpis:
  - { name: a, expression: 1 + 2, <<: *common }`,
    `week_start: 7
max_concurrency: 2
vars: { region: EU, floor: 3, on: true }
schedules: [{ cron: "0 9 * * 1", period: last_week, kpis: [a] }]
kpis:
  - name: a
    source: sql
    table: analytics.orders
    column: amount
    aggregation: sum
    time_column: day
    filter: status = 'paid'
    compare: [MoM, YoY]
    polarity: lower_is_better
    timeout_ms: 5000
    alerts: [{ condition: "MoM < -10%", severity: critical, repeat_interval: 4h, channels: [] }]`,
  ];
  for (const text of inline) {
    const data = parseYaml(text, { merge: true });
    assert.ok(validate(data), `${text}\n${JSON.stringify(validate.errors)}`);
    parseKpis(text, { env: { SMTP_PORT: "25" } });
  }
});

Deno.test("every invalid file fails the JSON Schema (ajv) as it fails parseKpis", () => {
  const validate = validator();
  const cases: [string, RegExp][] = [
    [read("tests/fixtures/several_problems.yaml"), /agregation|must be/],
    [
      "kpis:\n  - { name: a, source: sql, query: q, aggregation: median }",
      /enum/,
    ],
    [
      "kpis:\n  - { name: a, source: derived, expression: x, compare: [mom] }",
      /enum/,
    ],
    ["kpis:\n  - { name: 1a, source: derived, expression: x }", /pattern/],
    ["kpis:\n  - { name: a, source: graphql }", /enum/],
    [
      "kpis:\n  - { name: a, source: derived, expression: x, alerts: [{ condition: '< 1', severity: fatal }] }",
      /enum/,
    ],
    [
      "channels: { c: { type: teams, url: 'https://x' } }\nkpis: []",
      /const|oneOf/,
    ],
    ["channels: { c: { type: webhook } }\nkpis: []", /required|oneOf/],
    ["timezone: UTC\n", /required/],
    ["kpis: []\nweek_start: 9", /maximum|anyOf/],
    ["kpis: []\nconection: sqlite:x.db", /additional/],
  ];
  for (const [text, pattern] of cases) {
    const data = parseYaml(text);
    assert.equal(validate(data), false, text);
    assert.match(JSON.stringify(validate.errors), pattern, text);
    assert.throws(() => parseKpis(text), SyntaxError, text);
  }
});
