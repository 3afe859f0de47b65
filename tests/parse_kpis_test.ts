import assert from "node:assert/strict";
import { expandEnv } from "../src/config/expand_env.ts";
import { formatConfigIssues } from "../src/config/format_config_issues.ts";
import {
  KPIConfigError,
  type KPIConfigIssue,
} from "../src/config/kpi_config_error.ts";
import { parseKpis, type ParseKpisOptions } from "../src/config/parse_kpis.ts";
import type { KPIDefinition } from "../src/types.ts";

const fixture = (name: string): Promise<string> =>
  Deno.readTextFile(new URL(`./fixtures/${name}`, import.meta.url));

const yaml = (...lines: string[]): string => lines.join("\n") + "\n";

/** The issues parseKpis() throws; fails if it does not throw them. */
function issuesOf(
  source: unknown,
  options: ParseKpisOptions = {},
): readonly KPIConfigIssue[] {
  try {
    parseKpis(source, options);
  } catch (error) {
    if (error instanceof KPIConfigError) return error.issues;
    throw error;
  }
  assert.fail("expected a KPIConfigError");
}

/** The one issue parseKpis() throws. */
function onlyIssue(
  source: unknown,
  options: ParseKpisOptions = {},
): KPIConfigIssue {
  const issues = issuesOf(source, options);
  assert.equal(issues.length, 1, formatConfigIssues(issues, "test.yaml"));
  return issues[0]!;
}

/** A file with one dataframe KPI `revenue` plus the lines given. */
const withRevenue = (...lines: string[]): string =>
  yaml(
    "kpis:",
    "  - name: revenue",
    "    source: dataframe",
    "    query: orders.amount",
    "    aggregation: sum",
    ...lines,
  );

const ENV = {
  DB_PASSWORD: "pw",
  SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T/B/X",
  PD_ROUTING_KEY: "routing-key",
  SMTP_USER: "kpi",
  SMTP_PASSWORD: "smtp-pw",
  HOOK_SECRET: "hook-secret",
};

Deno.test("parseKpis() loads the reference package's YAML quick start unchanged and with the same meaning", async () => {
  const config = parseKpis(await fixture("reference_quickstart.yaml"), {
    file: "kpis.yaml",
  });
  assert.equal(config.kpis.length, 1);
  const kpi = config.kpis[0]!;
  assert.equal(kpi.name, "monthly_revenue");
  assert.equal(kpi.label, "Monthly Revenue");
  assert.equal(kpi.source, "sql");
  assert.equal(
    kpi.query,
    "SELECT SUM(amount) FROM orders WHERE order_date >= '{{ period_start }}'::date AND order_date < '{{ period_end }}'::date\n",
  );
  assert.equal(kpi.aggregation, "sum");
  assert.equal(kpi.unit, "USD");
  assert.deepEqual(kpi.compare, ["MoM", "YoY"]);
  assert.equal(kpi.polarity, "higher_is_better");
  assert.deepEqual(kpi.alerts, [{
    condition: "< 100000",
    severity: "critical",
    message: "Revenue dropped below $100K",
  }]);
  assert.equal(config.timezone, "UTC");
  assert.equal(config.weekStart, 1);
  assert.deepEqual(config.vars, {});
  assert.deepEqual(config.channels, {});
  assert.deepEqual(config.schedules, []);
  assert.equal(config.maxConcurrency, 4);
  assert.equal(config.connection, undefined);
});

Deno.test("parseKpis() loads the reference package's Python quick start in its TypeScript form", () => {
  const kpis: KPIDefinition[] = [{
    name: "revenue",
    label: "Monthly Revenue",
    source: "dataframe",
    aggregation: "sum",
    unit: "USD",
    query: "orders.revenue",
    compare: ["MoM"],
    alerts: [{ condition: "< 1000", severity: "warning" }],
  }];
  const config = parseKpis(kpis);
  assert.deepEqual(config.kpis, [{
    name: "revenue",
    label: "Monthly Revenue",
    source: "dataframe",
    aggregation: "sum",
    unit: "USD",
    query: "orders.revenue",
    compare: ["MoM"],
    polarity: "higher_is_better",
    alerts: [{ condition: "< 1000", severity: "warning" }],
  }]);
});

Deno.test("parseKpis() reads channels, schedules, vars and every top-level key, expanding ${VAR}", async () => {
  const config = parseKpis(await fixture("channels_and_history.yaml"), {
    env: ENV,
  });
  assert.equal(config.connection, "postgres://kpi:pw@127.0.0.1:5432/test");
  assert.equal(config.timezone, "Europe/Paris");
  assert.equal(config.weekStart, 7);
  assert.equal(config.auditLog, "history.db");
  assert.equal(config.maxConcurrency, 8);
  assert.deepEqual(config.vars, { region: "EU", min_amount: 10 });
  assert.deepEqual(config.channels, {
    ops_slack: { type: "slack", webhook_url: ENV.SLACK_WEBHOOK_URL },
    oncall: { type: "pagerduty", integration_key: "routing-key" },
    team_mail: {
      type: "email",
      smtp_host: "smtp.example.com",
      smtp_port: 587,
      from: "kpi@example.com",
      to: ["team@example.com"],
      username: "kpi",
      password: "smtp-pw",
    },
    hook: {
      type: "webhook",
      url: "https://example.com/kpi",
      secret: "hook-secret",
    },
  });
  assert.deepEqual(config.schedules, [
    { cron: "0 9 1 * *", period: "last_month" },
    {
      cron: "30 8 * * 1",
      period: "last_week",
      kpis: ["revenue", "orders"],
      timezone: "America/Toronto",
    },
  ]);
  const [revenue, orders, aov, refunds] = config.kpis;
  assert.deepEqual(revenue, {
    name: "revenue",
    label: "Revenue",
    source: "sql",
    table: "analytics.orders",
    column: "amount",
    aggregation: "sum",
    timeColumn: "order_date",
    filter: "region = {{ region }} AND amount >= {{ min_amount }}",
    unit: "USD",
    compare: ["MoM", "YoY"],
    polarity: "higher_is_better",
    timeoutMs: 5000,
    alerts: [
      {
        condition: "< 100000",
        severity: "critical",
        channels: ["ops_slack", "oncall"],
        repeatInterval: "4h",
      },
      {
        condition: "MoM < -10% and value < 50000",
        severity: "warning",
        message: "{{ label }} fell {{ MoM }}",
      },
    ],
  });
  assert.equal(orders?.column, "*", "count defaults its column to *");
  assert.equal(orders?.label, "orders", "label defaults to the name");
  assert.equal(aov?.expression, "round(revenue / orders, 2)");
  assert.deepEqual(aov?.tags, ["sales"]);
  assert.equal(aov?.description, "Revenue per order");
  assert.equal(refunds?.polarity, "lower_is_better");
  assert.deepEqual(refunds?.alerts?.[0]?.channels, []);
});

Deno.test("parseKpis() reports broken YAML with its line and column", async () => {
  const issue = onlyIssue(await fixture("broken.yaml"));
  assert.match(issue.message, /^Invalid YAML: Nested mappings/);
  assert.equal(issue.line, 5);
  assert.equal(issue.column, 11);
});

Deno.test("parseKpis() reports an unclosed quote where the string opens, not at the end of the file", () => {
  for (const quote of ['"', "'"]) {
    const issue = onlyIssue(yaml(
      "timezone: UTC",
      "kpis:",
      `  - name: ${quote}revenue`,
      "    source: dataframe",
      "    query: orders.amount",
      "    aggregation: sum",
      "  - name: orders",
      "    source: dataframe",
      "    query: orders.id",
      "    aggregation: count",
    ));
    assert.equal(
      issue.message,
      `Invalid YAML: The string opened here with ${quote} is never closed: add the closing ${quote}`,
    );
    assert.equal(issue.line, 3);
    assert.equal(issue.column, 11);
  }
});

Deno.test("parseKpis() refuses unknown alert message placeholders, suggesting and listing the known ones", () => {
  const issues = issuesOf(withRevenue(
    "    compare: [MoM]",
    "    alerts:",
    '      - condition: "< 100"',
    '        message: "{{ label }} moved {{ mom_change_pct }} to {{ valeu }} ({{ MoM.change }}, {{ YoY.arrow }})"',
  ));
  assert.deepEqual(issues.map((issue) => issue.path), [
    "kpis[0].alerts[0].message",
    "kpis[0].alerts[0].message",
  ]);
  assert.match(
    issues[0]!.message,
    /^Unknown placeholder "\{\{ mom_change_pct \}\}" in the alert message: did you mean "\{\{ MoM \}\}"\? \(known: name, label, value, .*C\.change, C\.previous, C\.arrow\)$/,
  );
  assert.match(
    issues[1]!.message,
    /"\{\{ valeu \}\}".*did you mean "\{\{ value \}\}"/,
  );
  assert.equal(issues[0]!.line, 9);
});

Deno.test("parseKpis() tells to quote a condition written with an unquoted > or |", () => {
  for (const condition of ["> 100", ">= 100", "| 3"]) {
    const issue = onlyIssue(withRevenue(
      "    alerts:",
      `      - condition: ${condition}`,
      "        severity: warning",
    ));
    assert.equal(
      issue.message,
      `Invalid YAML: "${condition}" starts a block of text (an unquoted ">" or "|" does in YAML): quote the value, as in condition: "${condition}"`,
    );
    assert.equal(issue.line, 7);
    assert.equal(issue.column, 20);
  }
});

Deno.test("parseKpis() reports a duplicate mapping key as broken YAML at the second key", () => {
  const issue = onlyIssue(withRevenue("    unit: USD", "    unit: EUR"));
  assert.equal(
    issue.message,
    'Invalid YAML: Duplicate key "unit" in a mapping',
  );
  assert.equal(issue.line, 7);
  assert.equal(issue.column, 5);
});

Deno.test("parseKpis() names an unknown key, suggests the right one, lists the accepted ones and points at the key", () => {
  const issue = onlyIssue(withRevenue("    agregation: sum"));
  assert.equal(issue.path, "kpis[0].agregation");
  assert.match(
    issue.message,
    /^Unknown key "agregation": did you mean "aggregation"\? \(accepted: name, label, description, .*time_column.*timeout_ms.*\)$/,
  );
  assert.equal(issue.line, 6);
  assert.equal(issue.column, 5);
});

Deno.test("parseKpis() reports a wrong type with the value it got", () => {
  const issue = onlyIssue(withRevenue("    timeout_ms: soon"));
  assert.equal(issue.path, "kpis[0].timeout_ms");
  assert.equal(
    issue.message,
    'Expected a number for "timeout_ms", got the string "soon"',
  );
  assert.deepEqual([issue.line, issue.column], [6, 17]);

  const list = onlyIssue(withRevenue("    compare: MoM"));
  assert.equal(
    list.message,
    'Expected a list for "compare", got the string "MoM": write [MoM]',
  );
  assert.equal(list.line, 6);
});

Deno.test("parseKpis() reports a duplicate KPI name at the second definition", () => {
  const issue = onlyIssue(
    withRevenue(
      "  - name: revenue",
      "    source: dataframe",
      "    query: orders.total",
      "    aggregation: sum",
    ),
  );
  assert.equal(issue.path, "kpis[1].name");
  assert.equal(
    issue.message,
    'Duplicate KPI name "revenue" (already defined by kpis[0])',
  );
  assert.deepEqual([issue.line, issue.column], [6, 11]);
});

Deno.test("parseKpis() prints a dependency cycle's path", () => {
  const issue = onlyIssue(withRevenue(
    "  - name: a",
    "    source: derived",
    "    expression: b + revenue",
    "  - name: b",
    "    source: derived",
    "    expression: a * 2",
  ));
  assert.equal(issue.message, "Dependency cycle: a → b → a");
  assert.equal(issue.path, "kpis[1].expression");
  assert.equal(issue.line, 8);
});

Deno.test("parseKpis() refuses a derived KPI that depends on itself", () => {
  const issue = onlyIssue(withRevenue(
    "  - name: growth",
    "    source: derived",
    "    expression: growth + revenue",
  ));
  assert.equal(issue.message, "Dependency cycle: growth → growth");
  assert.equal(issue.line, 8);
});

Deno.test("parseKpis() names an unknown KPI in an expression", () => {
  const issue = onlyIssue(withRevenue(
    "  - name: arpu",
    "    source: derived",
    "    expression: revenu / 2",
  ));
  assert.equal(issue.path, "kpis[1].expression");
  assert.match(
    issue.message,
    /^Unknown KPI "revenu" in expression "revenu \/ 2": did you mean "revenue"\?$/,
  );
  assert.deepEqual([issue.line, issue.column], [8, 17]);
  const two = issuesOf(withRevenue(
    "  - name: arpu",
    "    source: derived",
    "    expression: sales / active_users",
  ));
  assert.deepEqual(two.map((i) => i.message), [
    'Unknown KPI "sales" in expression "sales / active_users"',
    'Unknown KPI "active_users" in expression "sales / active_users"',
  ]);
});

Deno.test("parseKpis() refuses member access in an expression", () => {
  const issue = onlyIssue(withRevenue(
    "  - name: sneaky",
    "    source: derived",
    "    expression: revenue.constructor",
  ));
  assert.match(
    issue.message,
    /^Invalid expression "revenue\.constructor": member access "revenue\.constructor" is not allowed/,
  );
  assert.equal(issue.path, "kpis[1].expression");
  assert.equal(issue.line, 8);
});

Deno.test("parseKpis() refuses a call of a function outside the whitelist", () => {
  const issue = onlyIssue(withRevenue(
    "  - name: sneaky",
    "    source: derived",
    "    expression: fetch(revenue)",
  ));
  assert.match(
    issue.message,
    /^Invalid expression "fetch\(revenue\)": function "fetch" is not allowed.*min, max, abs, round, coalesce/,
  );
  assert.equal(issue.line, 8);
});

Deno.test("parseKpis() reports a condition that does not parse", () => {
  const issue = onlyIssue(withRevenue(
    "    alerts:",
    '      - condition: "< "',
  ));
  assert.equal(issue.path, "kpis[0].alerts[0].condition");
  assert.match(issue.message, /^Invalid condition "< ": /);
  assert.deepEqual([issue.line, issue.column], [7, 20]);
});

Deno.test("parseKpis() refuses a condition on a comparison the KPI does not compute", () => {
  const issue = onlyIssue(withRevenue(
    "    compare: [YoY]",
    "    alerts:",
    "      - condition: MoM < -10% and value < 50000",
  ));
  assert.equal(issue.path, "kpis[0].alerts[0].condition");
  assert.equal(
    issue.message,
    'Condition "MoM < -10% and value < 50000" uses MoM, which the KPI does not compute (add it: compare: [YoY, MoM])',
  );
  assert.equal(issue.line, 8);
});

Deno.test("parseKpis() names an unknown template variable and lists the known ones", () => {
  const issue = onlyIssue(yaml(
    "vars:",
    "  region: EU",
    "kpis:",
    "  - name: revenue",
    "    source: sql",
    "    query: >",
    "      SELECT SUM(amount) FROM orders",
    "      WHERE day >= '{{ period_start }}' AND region = {{regoin}}",
  ));
  assert.equal(issue.path, "kpis[0].query");
  assert.equal(
    issue.message,
    'Unknown template variable "regoin" in query: did you mean "region"? (known: period_start, period_end, region; define others under vars:)',
  );
  assert.equal(issue.line, 6);
});

Deno.test("parseKpis() ignores template variables in SQL comments, like the SQL compiler", () => {
  const config = parseKpis(yaml(
    "kpis:",
    "  - name: revenue",
    "    source: sql",
    "    query: SELECT 1 -- {{ not_a_variable }}",
  ));
  assert.equal(config.kpis[0]?.query, "SELECT 1 -- {{ not_a_variable }}");
});

Deno.test("parseKpis() names an unknown alert channel and lists the configured ones", () => {
  const issue = onlyIssue(yaml(
    "channels:",
    "  ops_slack: { type: slack, webhook_url: https://hooks.slack.com/x }",
    "kpis:",
    "  - name: revenue",
    "    source: sql",
    "    query: SELECT 1",
    "    alerts:",
    "      - condition: < 1",
    "        channels: [ops_slak]",
  ));
  assert.equal(issue.path, "kpis[0].alerts[0].channels[0]");
  assert.equal(
    issue.message,
    'Unknown channel "ops_slak": did you mean "ops_slack"? (configured: ops_slack)',
  );
  assert.deepEqual([issue.line, issue.column], [9, 20]);
});

Deno.test("parseKpis() names an unset environment variable and the field using it", () => {
  const issue = onlyIssue(
    yaml(
      "channels:",
      "  ops_slack:",
      "    type: slack",
      "    webhook_url: ${SLACK_WEBHOOK_URL}",
      "kpis: []",
    ),
    { env: { OTHER: "x" } },
  );
  assert.equal(
    issue.message,
    'Environment variable "SLACK_WEBHOOK_URL" is not set',
  );
  assert.equal(issue.path, "channels.ops_slack.webhook_url");
  assert.deepEqual([issue.line, issue.column], [4, 18]);
});

Deno.test("parseKpis() never reads the process environment itself", () => {
  Deno.env.set("KPI_TEST_ONLY_IN_PROCESS", "1");
  try {
    const issue = onlyIssue(yaml(
      "connection: ${KPI_TEST_ONLY_IN_PROCESS}",
      "kpis: []",
    ));
    assert.match(issue.message, /"KPI_TEST_ONLY_IN_PROCESS" is not set/);
  } finally {
    Deno.env.delete("KPI_TEST_ONLY_IN_PROCESS");
  }
});

Deno.test("parseKpis() expands variables in parsed values, so a value cannot inject YAML structure", () => {
  const config = parseKpis(
    withRevenue(
      "    unit: ${UNIT}",
      "    label: $${NOT_A_VAR} and \\${ALSO_NOT}",
    ),
    { env: { UNIT: "USD\n    polarity: lower_is_better" } },
  );
  assert.equal(config.kpis[0]?.unit, "USD\n    polarity: lower_is_better");
  assert.equal(config.kpis[0]?.polarity, "higher_is_better");
  assert.equal(config.kpis[0]?.label, "${NOT_A_VAR} and ${ALSO_NOT}");
});

Deno.test("parseKpis() reports a time zone it does not know, with a suggestion", () => {
  const issue = onlyIssue(
    withRevenue().replace(
      "kpis:",
      "timezone: Europe/Pariss\nkpis:",
    ),
  );
  assert.equal(issue.path, "timezone");
  assert.match(
    issue.message,
    /^Unknown time zone "Europe\/Pariss": did you mean "Europe\/Paris"\?/,
  );
  assert.deepEqual([issue.line, issue.column], [1, 11]);
});

Deno.test("parseKpis() reports every problem of a file at once, in file order", async () => {
  let error: unknown;
  try {
    parseKpis(await fixture("several_problems.yaml"), {
      file: "several_problems.yaml",
    });
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof KPIConfigError);
  assert.ok(error instanceof SyntaxError);
  assert.equal(error.file, "several_problems.yaml");
  assert.deepEqual(
    error.issues.map((i) => [i.path, i.line, i.message.split(/[:(]/)[0]]),
    [
      ["timezone", 1, 'Unknown time zone "Mars/Olympus_Mons" '],
      ["kpis[0].query", 5, 'Unknown template variable "regoin" in query '],
      ["kpis[0].agregation", 6, 'Unknown key "agregation"'],
      ["kpis[0].compare[0]", 7, 'Unknown comparison "mom"'],
      ["kpis[1].name", 8, 'Duplicate KPI name "revenue" '],
      [
        "kpis[2].expression",
        13,
        'Unknown KPI "profit" in expression "profit / revenue"',
      ],
      [
        "kpis[2].timeout_ms",
        14,
        'Expected a number for "timeout_ms", got the string "soon"',
      ],
    ],
  );
  assert.match(
    error.message,
    /^✖ Unknown time zone "Mars\/Olympus_Mons" .*\n {2}→ at timezone \(several_problems\.yaml:1:11\)\n✖ /,
  );
  assert.match(
    error.message,
    /✖ Unknown comparison "mom": did you mean "MoM"\? \(expected one of DoD, WoW, MoM, QoQ, YoY\)\n {2}→ at kpis\[0\]\.compare\[0\] \(several_problems\.yaml:7:15\)/,
  );
});

Deno.test("parseKpis() checks what each source needs", () => {
  const messages = (lines: string[]) =>
    issuesOf(yaml("kpis:", ...lines)).map((i) => `${i.path}: ${i.message}`);
  assert.deepEqual(
    messages(["  - name: a", "    source: sql"]),
    [
      'kpis[0].query: A sql KPI needs "query" (a SQL template) or "table", "aggregation" and "time_column" (structured)',
    ],
  );
  assert.deepEqual(
    messages([
      "  - name: a",
      "    source: sql",
      "    table: orders",
      "    aggregation: sum",
    ]),
    [
      'kpis[0].time_column: Missing required key "time_column" (a structured SQL KPI needs table, aggregation and time_column)',
      'kpis[0].column: Missing required key "column" (aggregation sum needs a column; only count takes "*")',
    ],
  );
  assert.deepEqual(
    messages([
      "  - name: a",
      "    source: sql",
      "    query: SELECT 1",
      "    table: orders",
    ]),
    [
      'kpis[0].table: A sql KPI takes either "query" (a SQL template) or "table" with "aggregation" and "time_column" (structured), not both',
    ],
  );
  assert.deepEqual(
    messages(["  - name: a", "    source: dataframe", "    query: SELECT 1"]),
    [
      'kpis[0].aggregation: Missing required key "aggregation" (a dataframe KPI folds rows with it)',
      'kpis[0].query: A dataframe KPI\'s query must be "table.column", got "SELECT 1"; for a SQL query use source: sql',
    ],
  );
  assert.deepEqual(
    messages([
      "  - name: a",
      "    source: derived",
      "    query: orders.amount",
    ]),
    [
      'kpis[0].expression: Missing required key "expression" (a derived KPI computes it from other KPIs)',
      'kpis[0].query: Key "query" does not apply to a derived KPI (it is for sql and dataframe KPIs)',
    ],
  );
  assert.deepEqual(
    messages(["  - name: a", "    source: csv"]),
    [
      'kpis[0].source: Unknown source "csv" (expected one of sql, dataframe, derived)',
    ],
  );
  assert.deepEqual(
    messages(["  - label: A", "    source: derived", '    expression: "1"']),
    ['kpis[0].name: Missing required key "name"'],
  );
});

Deno.test("parseKpis() points a missing key at the mapping that lacks it", () => {
  const issue = onlyIssue(yaml(
    "kpis:",
    "  - name: a",
    "    source: dataframe",
    "    query: orders.amount",
  ));
  assert.equal(issue.path, "kpis[0].aggregation");
  assert.deepEqual([issue.line, issue.column], [2, 5]);
});

Deno.test("parseKpis() checks names, severities, enums, numbers and durations", () => {
  const issues = issuesOf(yaml(
    "week_start: 0",
    "max_concurrency: 0",
    "kpis:",
    "  - name: 9lives",
    "    source: dataframe",
    "    query: cats.lives",
    "    aggregation: median",
    "    polarity: up",
    "    compare: [YoY, YoY]",
    "    alerts:",
    "      - condition: < 1",
    "        severity: critcal",
    "        repeat_interval: 4 hours",
  ));
  assert.deepEqual(issues.map((i) => `${i.line} ${i.path}: ${i.message}`), [
    '1 week_start: "week_start" must be 1 (Monday) to 7 (Sunday), got the number 0',
    '2 max_concurrency: "max_concurrency" must be a positive whole number, got the number 0',
    '4 kpis[0].name: Invalid KPI name "9lives" (expected letters, digits and underscores, not starting with a digit)',
    '7 kpis[0].aggregation: Unknown aggregation "median" (expected one of sum, avg, count, last, rate)',
    '8 kpis[0].polarity: Unknown polarity "up" (expected one of higher_is_better, lower_is_better)',
    '9 kpis[0].compare[1]: Comparison "YoY" is listed twice',
    '12 kpis[0].alerts[0].severity: Unknown severity "critcal": did you mean "critical"? (expected one of info, warning, critical)',
    '13 kpis[0].alerts[0].repeat_interval: Invalid repeat_interval "4 hours" (expected a number and a unit: ms, s, m, h, d or w, e.g. "30m", "4h", "1d")',
  ]);
});

Deno.test("parseKpis() checks each channel type's settings and the schedules", () => {
  const issues = issuesOf(yaml(
    "channels:",
    "  chat: { type: slack }",
    "  pager: { type: pagerduty, integration_key: a, routing_key: b }",
    "  mail: { type: email, smtp_host: h, smtp_port: 99999, to: [] }",
    "  hook: { type: webhook, url: not-a-url, sceret: x }",
    "  fax: { type: fax }",
    "schedules:",
    "  - cron: 0 9 * *",
    "    period: last_fortnight",
    "    kpis: [revenue, revenu]",
    "    timezone: Nowhere/City",
    "kpis:",
    "  - name: revenue",
    "    source: sql",
    "    query: SELECT 1",
  ));
  // The period's message (from resolvePeriod) goes on to list every form.
  const shortened = issues.map((i) =>
    `${i.line} ${i.path}: ${
      i.message.replace(/^(Cannot resolve period .*?expected one of).*/, "$1")
    }`
  );
  assert.deepEqual(shortened, [
    '2 channels.chat.webhook_url: Missing required key "webhook_url" (a slack channel posts to an incoming webhook; "url" is accepted too)',
    '3 channels.pager.routing_key: Give "integration_key" or "routing_key", not both',
    '4 channels.mail.from: Missing required key "from" (the sender\'s address; "from_email" is accepted too)',
    '4 channels.mail.smtp_port: "smtp_port" must be from 1 to 65535, got 99999',
    '4 channels.mail.to: "to" must list at least one address',
    '5 channels.hook.url: "url" must be an http(s) URL, got "not-a-url"',
    '5 channels.hook.sceret: Unknown key "sceret": did you mean "secret"? (accepted: type, url, secret, headers)',
    '6 channels.fax.type: Unknown channel type "fax" (expected one of slack, email, pagerduty, webhook)',
    '8 schedules[0].cron: Invalid cron expression "0 9 * *" (expected five fields: minute hour day-of-month month day-of-week, e.g. "0 9 1 * *")',
    '9 schedules[0].period: Cannot resolve period "last_fortnight": expected one of',
    '10 schedules[0].kpis[1]: Unknown KPI "revenu" in schedule: did you mean "revenue"?',
    '11 schedules[0].timezone: Unknown time zone "Nowhere/City" (expected an IANA zone such as "UTC", "Europe/Paris" or "America/New_York")',
  ]);
});

Deno.test("parseKpis() accepts the reference package's email keys, a url overriding a Slack webhook, and variables from the environment as strings", () => {
  const config = parseKpis(
    yaml(
      "channels:",
      "  mail:",
      "    type: email",
      "    smtp_host: smtp.gmail.com",
      "    smtp_port: ${SMTP_PORT}",
      "    from_email: alerts@company.com",
      "    to_emails: team@company.com, ops@company.com",
      "    starttls: ${STARTTLS}",
      "  chat:",
      "    type: slack",
      "    webhook_url: https://hooks.slack.com/services/T/B/X",
      '    url: "http://127.0.0.1:8080/hook"',
      '  chat2: { type: slack, url: "http://127.0.0.1:8080/hook2" }',
      '  pager: { type: pagerduty, routing_key: rk, url: "http://127.0.0.1:8080/pd" }',
      "kpis: []",
    ),
    { env: { SMTP_PORT: "587", STARTTLS: "true" } },
  );
  assert.deepEqual(config.channels, {
    mail: {
      type: "email",
      smtp_host: "smtp.gmail.com",
      smtp_port: 587,
      from: "alerts@company.com",
      to: ["team@company.com", "ops@company.com"],
      starttls: true,
    },
    chat: {
      type: "slack",
      webhook_url: "http://127.0.0.1:8080/hook",
      url: "http://127.0.0.1:8080/hook",
    },
    chat2: {
      type: "slack",
      webhook_url: "http://127.0.0.1:8080/hook2",
      url: "http://127.0.0.1:8080/hook2",
    },
    pager: {
      type: "pagerduty",
      integration_key: "rk",
      url: "http://127.0.0.1:8080/pd",
    },
  });
});

Deno.test("parseKpis() refuses reserved or malformed variable names and non-scalar values", () => {
  const issues = issuesOf(yaml(
    "vars:",
    "  period_start: 2024-01-01",
    "  bad-name: 1",
    "  nested: { a: 1 }",
    "kpis: []",
  ));
  assert.deepEqual(issues.map((i) => `${i.line} ${i.path}: ${i.message}`), [
    '2 vars.period_start: Variable "period_start" is reserved: the engine sets period_start and period_end',
    '3 vars.bad-name: Invalid variable name "bad-name" (expected letters, digits and underscores, not starting with a digit)',
    "4 vars.nested: A variable must be a string, number or boolean, got a mapping",
  ]);
});

Deno.test("parseKpis() takes a whole TypeScript configuration with camelCase keys and speaks them back in messages", () => {
  const config = parseKpis({
    timezone: "America/Toronto",
    weekStart: 7,
    maxConcurrency: 2,
    auditLog: "kv:./kpi.kv",
    channels: {
      hook: {
        type: "webhook",
        url: "http://127.0.0.1:9/x",
        headers: { "X-Team": "ops" },
      },
    },
    kpis: [{
      name: "orders",
      source: "sql",
      table: "orders",
      aggregation: "count",
      timeColumn: "created_at",
      timeoutMs: 1000,
      alerts: [{ condition: "< 1", repeatInterval: "1d", channels: ["hook"] }],
    }],
  });
  assert.equal(config.weekStart, 7);
  assert.equal(config.maxConcurrency, 2);
  assert.equal(config.auditLog, "kv:./kpi.kv");
  assert.deepEqual(config.channels.hook, {
    type: "webhook",
    url: "http://127.0.0.1:9/x",
    headers: { "X-Team": "ops" },
  });
  assert.equal(config.kpis[0]?.timeColumn, "created_at");
  assert.equal(config.kpis[0]?.timeoutMs, 1000);
  assert.equal(config.kpis[0]?.column, "*");
  assert.equal(config.kpis[0]?.alerts?.[0]?.repeatInterval, "1d");

  const issues = issuesOf([{
    name: "orders",
    source: "sql",
    table: "orders",
    aggregation: "sum",
    timeColum: "created_at",
    timeoutMs: -1,
    label: undefined,
  }]);
  assert.deepEqual(issues.map((i) => [i.path, i.line, i.column, i.message]), [
    [
      "kpis[0].timeoutMs",
      null,
      null,
      '"timeoutMs" must be a positive whole number, got the number -1',
    ],
    [
      "kpis[0].timeColum",
      null,
      null,
      'Unknown key "timeColum": did you mean "timeColumn"? (accepted: name, label, description, tags, source, query, expression, aggregation, timeColumn, table, column, filter, dimensions, unit, compare, polarity, alerts, timeoutMs, window, anomaly, target, pace)',
    ],
    [
      "kpis[0].timeColumn",
      null,
      null,
      'Missing required key "timeColumn" (a structured SQL KPI needs table, aggregation and timeColumn)',
    ],
    [
      "kpis[0].column",
      null,
      null,
      'Missing required key "column" (aggregation sum needs a column; only count takes "*")',
    ],
  ]);
});

Deno.test("parseKpis() refuses a top level that is not a configuration", () => {
  assert.throws(() => parseKpis(42), TypeError);
  assert.match(
    onlyIssue("- name: revenue\n").message,
    /got a list \(put the list under kpis:\)$/,
  );
  assert.match(
    onlyIssue("kpis.yaml").message,
    /parseKpis\(\) takes YAML text, not a file name/,
  );
  assert.equal(
    onlyIssue("").message,
    'The file is empty: expected a mapping with a "kpis" list',
  );
  const missing = onlyIssue("timezone: UTC\n");
  assert.equal(missing.message, 'Missing required key "kpis"');
  assert.deepEqual([missing.path, missing.line, missing.column], [
    "kpis",
    1,
    1,
  ]);
});

Deno.test("expandEnv() substitutes, falls back, escapes and refuses malformed references", () => {
  const env = { HOST: "db", EMPTY: "" };
  assert.equal(expandEnv("postgres://${HOST}/x", env), "postgres://db/x");
  assert.equal(expandEnv("${EMPTY:-fallback}", env), "fallback");
  assert.equal(expandEnv("${NOPE:-}", env), "");
  assert.equal(expandEnv("$${HOST} \\${HOST}", env), "${HOST} ${HOST}");
  assert.equal(expandEnv("$HOST {HOST} $", env), "$HOST {HOST} $");
  assert.throws(
    () => expandEnv("${NOPE}", env),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message === 'Environment variable "NOPE" is not set',
  );
  assert.throws(
    () => expandEnv("${1X}", env),
    /Malformed variable reference "\$\{1X\}"/,
  );
  assert.equal(expandEnv("${toString}", { toString: "x" }), "x");
  assert.throws(() => expandEnv("${toString}", {}), RangeError);
});

Deno.test("formatConfigIssues() renders each issue as a message line and a location line", () => {
  assert.equal(
    formatConfigIssues([
      {
        path: "kpis[2].agregation",
        line: 14,
        column: 5,
        message: 'Unknown key "agregation"',
      },
      { path: "", line: 3, column: null, message: "Invalid YAML: bad" },
      { path: "kpis[0].name", line: null, column: null, message: "Bad name" },
    ], "kpis.yaml"),
    [
      '✖ Unknown key "agregation"',
      "  → at kpis[2].agregation (kpis.yaml:14:5)",
      "✖ Invalid YAML: bad",
      "  → at kpis.yaml:3",
      "✖ Bad name",
      "  → at kpis[0].name (kpis.yaml)",
    ].join("\n"),
  );
});

Deno.test("parseKpis() accepts YAML merge keys, with shared settings kept under a top-level x- key", () => {
  const config = parseKpis(yaml(
    "x-monthly: &monthly",
    "  source: dataframe",
    "  aggregation: sum",
    "  compare: [MoM, YoY]",
    "kpis:",
    "  - <<: *monthly",
    "    name: revenue",
    "    query: orders.amount",
    "  - <<: *monthly",
    "    name: refunds",
    "    query: refunds.amount",
    "    polarity: lower_is_better",
  ));
  assert.deepEqual(config.kpis.map((k) => [k.name, k.source, k.compare]), [
    ["revenue", "dataframe", ["MoM", "YoY"]],
    ["refunds", "dataframe", ["MoM", "YoY"]],
  ]);
});

/** A file with one structured SQL KPI `revenue` and the target given. */
const sqlRevenueWithTarget = (target: string, source = "sql"): string =>
  yaml(
    "kpis:",
    "  - name: revenue",
    `    source: ${source}`,
    ...(source === "sql"
      ? ["    table: orders", "    column: amount", "    time_column: day"]
      : ["    query: orders.amount"]),
    "    aggregation: sum",
    `    target: ${target}`,
  );

Deno.test("parseKpis() reads a target from a template or a table, in the file's and TypeScript's spelling", () => {
  const template = parseKpis(sqlRevenueWithTarget(
    `{ query: "SELECT value FROM targets WHERE month = {{ period_start }}" }`,
  ));
  assert.deepEqual(template.kpis[0]?.target, {
    query: "SELECT value FROM targets WHERE month = {{ period_start }}",
  });
  const table = parseKpis(sqlRevenueWithTarget(
    `{ table: finance.targets, column: value, time_column: month, aggregation: last, filter: "kpi = 'revenue'" }`,
  ));
  assert.deepEqual(table.kpis[0]?.target, {
    table: "finance.targets",
    column: "value",
    timeColumn: "month",
    aggregation: "last",
    filter: "kpi = 'revenue'",
  });
  const typed = parseKpis([{
    name: "revenue",
    source: "sql",
    table: "orders",
    column: "amount",
    aggregation: "sum",
    timeColumn: "day",
    target: { table: "targets", column: "value", timeColumn: "month" },
  }]);
  assert.deepEqual(typed.kpis[0]?.target, {
    table: "targets",
    column: "value",
    timeColumn: "month",
  });
  // Numbers by period are still numbers by period.
  assert.deepEqual(
    parseKpis(sqlRevenueWithTarget(`{ "2024-11": 5 }`)).kpis[0]?.target,
    { "2024-11": 5 },
  );
});

Deno.test("parseKpis() names what is wrong with a target read from the database", () => {
  const message = (target: string, source = "sql") =>
    issuesOf(sqlRevenueWithTarget(target, source)).map((i) =>
      `${i.path}: ${i.message}`
    );
  assert.deepEqual(message(`{ sql: "SELECT 1" }`), [
    'kpis[0].target.sql: Unknown key "sql" (accepted: query, table, column, time_column, aggregation, filter)',
  ]);
  assert.deepEqual(message(`{ query: "SELECT 1", colum: value }`), [
    'kpis[0].target.colum: Unknown key "colum": did you mean "column"? (accepted: query, table, column, time_column, aggregation, filter)',
  ]);
  assert.deepEqual(message(`{ query: "SELECT {{ perod_start }}" }`), [
    'kpis[0].target.query: Unknown template variable "perod_start" in query: did you mean "period_start"? (known: period_start, period_end; define others under vars:)',
  ]);
  assert.deepEqual(message(`{ table: targets }`), [
    'kpis[0].target.column: Missing required key "column" (a target read from "table" needs the column of target values)',
    'kpis[0].target.time_column: Missing required key "time_column" (a target read from "table" needs the column dating each row)',
  ]);
  assert.deepEqual(
    message(
      `{ table: targets, column: v, time_column: m, aggregation: count }`,
    ),
    [
      'kpis[0].target.aggregation: Unknown aggregation "count" (expected one of sum, avg, last)',
    ],
  );
  assert.deepEqual(message(`{ query: "SELECT 1", table: targets }`), [
    'kpis[0].target.table: Key "table" does not apply to a target read with "query": give either "query" (a SQL template returning the target) or "table" with "column" and "time_column"',
  ]);
  assert.deepEqual(
    message(`{ table: "targets; DROP TABLE x", column: v, time_column: m }`),
    [
      'kpis[0].target.table: Invalid table "targets; DROP TABLE x": expected a plain name of letters, digits and underscores, optionally schema-qualified such as analytics.orders',
    ],
  );
  assert.deepEqual(message(`{ query: "SELECT 1" }`, "dataframe"), [
    `kpis[0].target: A target read with "query" needs a KPI with source: sql (it runs on the KPI's own database); a dataframe KPI takes a number or a mapping of period to number`,
  ]);
  assert.deepEqual(message(`"a lot"`), [
    'kpis[0].target: "target" must be a number, a mapping of period to number (e.g. "2024-11": 300000), or a mapping with "query" (a SQL template) or "table", "column" and "time_column", got the string "a lot"',
  ]);
});

Deno.test("parseKpis() suggests the value a shortened word begins", () => {
  assert.throws(
    () =>
      parseKpis(
        [
          "kpis:",
          "  - name: refunds",
          "    source: sql",
          '    query: "SELECT 1"',
          "    polarity: lower",
          "    alerts:",
          '      - condition: "> 5"',
          "        severity: crit",
        ].join("\n"),
        { file: "short.yaml" },
      ),
    (error: Error) => {
      assert.match(
        error.message,
        /Unknown polarity "lower": did you mean "lower_is_better"\? \(expected one of higher_is_better, lower_is_better\)\n {2}→ at kpis\[0\]\.polarity \(short\.yaml:5:15\)/,
      );
      assert.match(
        error.message,
        /Unknown severity "crit": did you mean "critical"\? \(expected one of info, warning, critical\)\n {2}→ at kpis\[0\]\.alerts\[0\]\.severity \(short\.yaml:8:19\)/,
      );
      return true;
    },
  );
});

Deno.test("parseKpis() shows the list to write when a list key gets one value", () => {
  assert.throws(
    () =>
      parseKpis(
        [
          "kpis:",
          "  - name: revenue",
          "    source: sql",
          '    query: "SELECT 1"',
          "    compare: MoM, YoY",
        ].join("\n"),
        { file: "one.yaml" },
      ),
    /Expected a list for "compare", got the string "MoM, YoY": write \[MoM, YoY\]\n {2}→ at kpis\[0\]\.compare \(one\.yaml:5:14\)/,
  );
});
