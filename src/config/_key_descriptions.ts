/**
 * What each key of `kpis.yaml` means, as editors show it on hover. Keyed by
 * the key's path in the schema: `kpis[].alerts[].condition` for a list
 * item's key, `vars.*` for a map's values, `channels.*<email>.to` for a
 * key of one channel type (those come from the channel kinds, each
 * described in its folder under `adapters/channels/`). A test checks that every key of the schema has a
 * description and that no entry here names a key the schema lacks.
 *
 * @module
 */

import { CHANNEL_KINDS } from "../adapters/channels/channel_kinds.ts";

/** The description of every key of the configuration file, by path. */
const OWN_DESCRIPTIONS: Readonly<Record<string, string>> = {
  connection:
    "Database URL the SQL KPIs read: sqlite:./shop.db, postgres://user@host/db, mysql://user@host/db. ${VAR} expands from the environment.",
  timezone:
    'IANA time zone in which periods are cut into days, e.g. "Europe/Paris". Default UTC.',
  week_start:
    "First day of the week for last_week, this_week and ISO-style weeks: 1 = Monday (default) ... 7 = Sunday.",
  vars:
    "Extra variables for SQL templates: {{ name }} in a query reaches the database as a bound parameter.",
  "vars.*": "A variable's value: a string, number or boolean.",
  audit_log:
    "History store every run appends to: history.db (SQLite), audit.csv, kv:./kpi.kv or kv: (Deno KV), postgres://... . Alert state lives there too.",
  channels: "Alert channels by name; alert rules route to them by name.",
  "channels.*": "One alert channel: its type and settings.",
  schedules:
    "Scheduled runs for the server and `kpi schedule`: a cron expression, a period and the KPIs.",
  "schedules[].cron":
    'Five cron fields: minute hour day-of-month month day-of-week, e.g. "0 9 1 * *".',
  "schedules[].period":
    "The period each run computes, e.g. yesterday or last_week. Default last_month.",
  "schedules[].kpis": "The KPIs each run computes. Default every KPI.",
  "schedules[].timezone":
    "The time zone the cron expression is read in. Default the file's timezone.",
  max_concurrency: "Most queries in flight at once. Default 4.",
  connect_timeout_ms:
    "How long opening a database connection may take, in milliseconds, before the run fails with a connection error; also a PostgreSQL history's connecting, and a SQLite history's busy timeout (how long it waits for another process's lock). Default 5000.",
  kpis: "The KPI definitions, in the order reports list them.",
  "kpis[].name":
    "Unique name of letters, digits and underscores, not starting with a digit; derived expressions and the API use it.",
  "kpis[].label": "Human-readable name. Default the name.",
  "kpis[].description": "What the KPI means, for readers and agents.",
  "kpis[].tags": "Free labels.",
  "kpis[].source":
    "Where the value comes from: sql (a template or a structured query), dataframe (an in-memory table) or derived (an expression over other KPIs).",
  "kpis[].query":
    'sql: a SQL template that returns the value, with {{ period_start }} and {{ period_end }} as bound parameters. dataframe: "table.column".',
  "kpis[].expression":
    "derived: arithmetic over other KPIs' names, e.g. revenue / orders.",
  "kpis[].aggregation":
    "How rows fold into one value: sum, avg, count, last (the newest row's value) or rate (the share of truthy values). Required for structured SQL and dataframe KPIs.",
  "kpis[].time_column":
    "The column that dates each row; rows count in a period when start <= time < end.",
  "kpis[].table":
    "Structured SQL: the table, optionally schema-qualified (analytics.orders).",
  "kpis[].column":
    'Structured SQL: the column to aggregate; "*" with count counts rows.',
  "kpis[].filter":
    "Structured SQL: a SQL boolean expression that rows must meet, e.g. status = 'paid'.",
  "kpis[].dimensions":
    "Columns the KPI can be broken down by (sql and dataframe KPIs): breakdowns with `run --by`, drivers with `explain`. A SQL template with dimensions returns one row per segment, the dimension columns first and the value last. Derived KPIs inherit the dimensions their inputs share.",
  "kpis[].unit": "Display unit, e.g. USD or %.",
  "kpis[].compare":
    "Comparisons with earlier periods: DoD, WoW, MoM, QoQ, YoY (each shifts the whole period back).",
  "kpis[].polarity":
    "Whether a rise is good news (higher_is_better, the default) or bad (lower_is_better).",
  "kpis[].alerts": "Alert rules, each checked on every run.",
  "kpis[].alerts[].condition":
    'When the rule fires, e.g. "< 100000", "MoM < -10%" or "MoM < -10% and value < 50000". Quote it: a bare > starts a folded block in YAML.',
  "kpis[].alerts[].severity":
    "How loud the alert is: info, warning (the default) or critical.",
  "kpis[].alerts[].message":
    "The notice's text; a template may use {{ label }}, {{ value }}, {{ unit }}, {{ period }}, ... .",
  "kpis[].alerts[].channels":
    "The channels to notify, by name. Default every channel; [] sends nowhere.",
  "kpis[].alerts[].repeat_interval":
    "Re-send while the rule still holds after this long: 30m, 4h, 1d, 1h30m (units ms, s, m, h, d, w).",
  "kpis[].anomaly":
    "An anomaly baseline learned from the KPI's own series (for days: a level per weekday and a trend, fitted robustly on the log scale, outlying training days set aside; otherwise a robust line with median and MAD); conditions may then use anomaly, expected, lower, upper and score. anomaly: {} takes the defaults.",
  "kpis[].anomaly.window":
    "How many earlier buckets the baseline learns from. Default 56 for days (8 weeks), 12 for weeks and months, 8 for quarters, 5 for years.",
  "kpis[].anomaly.seasonal":
    "weekday: learn only from the same day of the week (daily periods); none: from every earlier point; auto (default): weekday for days, none otherwise.",
  "kpis[].anomaly.sensitivity":
    "Half the width of the normal band, in standard deviations of the noise (for days, of the prediction; otherwise 1.4826 × MAD). Default 3; larger fires less.",
  "kpis[].anomaly.direction":
    "Which departures count: drop, rise or both (default).",
  "kpis[].anomaly.min_change":
    "The smallest departure from the expected value that counts, as a share of it (0.1 = 10%, the default), so tiny moves never fire.",
  "kpis[].anomaly.min_points":
    "The fewest earlier points a baseline needs; with fewer it says so and does not fire. Default 4.",
  "kpis[].anomaly.trend":
    "Follow the trend of the training points rather than their level alone (for days a common slope across weekdays, otherwise a robust Theil–Sen line). Default true.",
  "kpis[].target":
    'The target: one number for every period, numbers by fixed period ("2024-11": 300000, "2024-Q4": 900000), or read from the KPI\'s own database for each period (source: sql KPIs) with query, or with table, column and time_column. Conditions may then use target, attainment and projected.',
  "kpis[].target.*": "The target for this period.",
  "kpis[].target.query":
    "A SQL template returning the period's target (first column of the first row), with {{ period_start }}, {{ period_end }} of the whole period and the vars bound as parameters. No row or NULL: no target.",
  "kpis[].target.table":
    "The table of targets, e.g. finance.targets, read on the KPI's own connection.",
  "kpis[].target.column": "The table's column of target values.",
  "kpis[].target.time_column":
    "The table's column dating each row: rows dated within the period make its target.",
  "kpis[].target.aggregation":
    "How the period's rows fold into its target: sum (default), avg or last.",
  "kpis[].target.filter":
    "A SQL boolean expression choosing the table's rows, e.g. kpi = 'revenue'.",
  "kpis[].pace": "How a running period is measured against its target.",
  "kpis[].pace.method":
    "calendar (default): the share of days passed; weekday: days weighted by their usual share, learned from the last 8 weeks of daily values.",
  "kpis[].pace.min_elapsed":
    "The share of the period (0 to 1) that must have passed before projected is trusted and alerted on. Default 0.25.",
  "kpis[].timeout_ms":
    "Cancel the KPI's query after this many milliseconds. Default 30000.",
  "kpis[].window":
    "A trailing window: the value for a period is the aggregate over the window ending where the period ends. 7d, 28d (1 to 9999 days), mtd, qtd or ytd.",
};

/** The description of every key of the configuration file, by path. */
export const KEY_DESCRIPTIONS: Readonly<Record<string, string>> = {
  ...OWN_DESCRIPTIONS,
  ...Object.fromEntries(
    CHANNEL_KINDS.flatMap((kind) =>
      Object.entries(kind.descriptions).map((
        [key, text],
      ) => [`channels.*<${kind.type}>.${key}`, text])
    ),
  ),
};
