/**
 * The zod schemas of what the REST routes answer, registered under their
 * OpenAPI component names. They describe responses for `/openapi.json`; the
 * query schemas that validate requests live in `_params.ts`. Internal: the
 * public API speaks in plain interfaces (`KPIResult`, ...).
 *
 * @module
 */

import { z } from "zod";

/** Schemas with an OpenAPI component name; `$ref`s point at them. */
export const components: z.core.$ZodRegistry<{ id: string }> = z.registry<
  { id: string }
>();

/** Registers a schema as `#/components/schemas/{id}` and returns it. */
export function component<T extends z.ZodType>(id: string, schema: T): T {
  components.add(schema, { id });
  return schema;
}

const date = (description?: string) =>
  z.string().meta({
    format: "date",
    ...(description === undefined ? {} : { description }),
  });

/** `{"error": "...", "issues"?: [...]}`: every 4xx and 5xx answer. */
export const ErrorBody = component(
  "Error",
  z.looseObject({
    error: z.string(),
    issues: z.array(z.object({
      path: z.array(z.string()),
      message: z.string(),
    })).optional(),
  }),
);

/** A resolved period. */
export const PeriodBody = component(
  "Period",
  z.looseObject({
    label: z.string().meta({ examples: ["2024-11"] }),
    start: date(),
    end: date("First day after the period."),
  }),
);

/** One comparison of a KPIResult. */
export const ComparisonBody = component(
  "ComparisonResult",
  z.looseObject({
    previousValue: z.number().nullable(),
    change: z.number().nullable(),
    changePct: z.number().nullable().meta({
      description: "change / |previousValue| * 100; null when the " +
        "previous value is 0 or missing.",
    }),
    periodStart: date(),
    periodEnd: date(),
    favorable: z.boolean().nullable().meta({
      description: "Whether the change is good news under the KPI's polarity.",
    }),
  }),
);

/** One delivery attempt of an alert. */
export const AlertDeliveryBody = component(
  "AlertDelivery",
  z.looseObject({
    channel: z.string(),
    ok: z.boolean(),
    status: z.number().int().nullable(),
    attempts: z.number().int(),
    error: z.string().nullable(),
  }),
);

/** An alert rule that fired. */
export const TriggeredAlertBody = component(
  "TriggeredAlert",
  z.looseObject({
    condition: z.string().meta({ examples: ["< 100000"] }),
    severity: z.enum(["info", "warning", "critical"]),
    message: z.string(),
    deliveries: z.array(AlertDeliveryBody).optional(),
  }),
);

/** The anomaly baseline of a result (KPIs with `anomaly:`). */
export const AnomalyBody = component(
  "AnomalyBaseline",
  z.looseObject({
    expected: z.number().nullable(),
    lower: z.number().nullable(),
    upper: z.number().nullable(),
    score: z.number().nullable().meta({
      description: "Distance from expected in robust standard deviations.",
    }),
    baselinePoints: z.number().int(),
    anomalous: z.boolean(),
    note: z.string().nullable(),
  }),
);

/** How a result's attainment and projection were computed. */
export const PaceBody = component(
  "Pace",
  z.looseObject({
    elapsed: z.number().meta({
      description: "The share of the period that has passed, 0 to 1.",
    }),
    targetToDate: z.number(),
    estimate: z.boolean().meta({
      description: "Too little of the period has passed to trust `projected`.",
    }),
    method: z.enum(["calendar", "weekday"]),
  }),
);

/** A KPIResult, as `GET /kpis/{name}` answers it. */
export const KPIResultBody = component(
  "KPIResult",
  z.looseObject({
    name: z.string(),
    label: z.string(),
    unit: z.string().nullable(),
    value: z.number().nullable(),
    periodStart: date(),
    periodEnd: date("First day after the period."),
    comparisons: z.partialRecord(
      z.enum(["DoD", "WoW", "MoM", "QoQ", "YoY"]),
      ComparisonBody,
    ).meta({ description: "By comparison; only those the KPI asks for." }),
    momChangePct: z.number().nullable(),
    yoyChangePct: z.number().nullable(),
    alertStatus: z.enum(["ok", "warning", "critical", "error"]),
    alertsTriggered: z.array(TriggeredAlertBody),
    queryDurationMs: z.number(),
    error: z.string().nullable(),
    note: z.string().nullable().meta({
      description: "Why the value is null although no error occurred, or null.",
    }),
    grain: z.enum(["day", "week", "month", "quarter", "year", "custom"])
      .optional().meta({ description: "On results read from history." }),
    recordedAt: z.string().optional().meta({
      format: "date-time",
      description: "On results read from history: when it was computed.",
    }),
    definitionHash: z.string().optional().meta({
      description: "On results read from history: the definition's hash.",
    }),
    anomaly: AnomalyBody.optional(),
    target: z.number().optional().meta({
      description: "The target for the whole period (KPIs with `target:`).",
    }),
    targetNote: z.string().optional().meta({
      description: "Why a KPI whose target is read from its database " +
        "(`target: { table, ... }` or `target: { query }`) has none for " +
        "this period: the target query failed (with its error) or found " +
        "no value.",
      examples: ["The target query found no value for this period"],
    }),
    attainment: z.number().nullable().optional().meta({
      description: "The value over the target due by now (1 = on pace).",
    }),
    projected: z.number().nullable().optional().meta({
      description: "The value projected to the period's end.",
    }),
    pace: PaceBody.optional(),
    drivers: z.looseObject({}).optional().meta({
      description: "When an alert fired on a KPI with dimensions: " +
        "`{compare, change, drivers, unexplained}`.",
    }),
  }).meta({
    examples: [{
      name: "revenue",
      label: "Revenue",
      unit: "USD",
      value: 6000,
      periodStart: "2024-11-01",
      periodEnd: "2024-12-01",
      comparisons: {
        MoM: {
          previousValue: 5000,
          change: 1000,
          changePct: 20,
          periodStart: "2024-10-01",
          periodEnd: "2024-11-01",
          favorable: true,
        },
      },
      momChangePct: 20,
      yoyChangePct: null,
      alertStatus: "ok",
      alertsTriggered: [],
      queryDurationMs: 1.7,
      error: null,
      note: null,
    }],
  }),
);

/** `GET /kpis`: the period and every result. */
export const RunReportBody = component(
  "RunReport",
  z.looseObject({
    period: PeriodBody,
    results: z.array(KPIResultBody),
  }),
);

/** `GET /kpis/{name}/history`. */
export const HistoryBody = component(
  "History",
  z.looseObject({
    name: z.string(),
    results: z.array(KPIResultBody).meta({ description: "Newest first." }),
  }),
);

/** One point of a series. */
export const SeriesPointBody = component(
  "SeriesPoint",
  z.looseObject({
    periodStart: date(),
    periodEnd: date("First day after the bucket (after today when partial)."),
    value: z.number().nullable(),
    partial: z.boolean().meta({
      description: "The bucket holds today; its value may change.",
    }),
    comparisons: z.record(z.string(), ComparisonBody).optional(),
    error: z.string().optional(),
    note: z.string().optional(),
  }),
);

/** `GET /kpis/{name}/series`. */
export const SeriesBody = component(
  "Series",
  z.looseObject({
    name: z.string(),
    grain: z.enum(["day", "week", "month", "quarter", "year"]),
    points: z.array(SeriesPointBody).meta({ description: "Oldest first." }),
  }),
);

/** One dependency's reachability. */
export const HealthCheckBody = component(
  "HealthCheck",
  z.looseObject({
    status: z.enum(["ok", "error", "not_configured"]),
    latencyMs: z.number(),
    error: z.string().optional(),
  }),
);

/** `GET /health`. */
export const HealthBody = component(
  "Health",
  z.looseObject({
    status: z.enum(["ok", "degraded"]),
    checks: z.record(z.string(), HealthCheckBody).meta({
      description: "By dependency, e.g. `database`, `history`.",
    }),
  }),
);

// BreakdownBody and DriversBody are alike in form only: two components,
// each described in its own prose (their fields are typed in mod.ts).
/** `GET /kpis/{name}/breakdown`. */
export const BreakdownBody = component(
  "KPIBreakdown",
  z.looseObject({}).meta({
    description: "Per dimension, rows of `{segment, value, share, " +
      "comparisons}`, largest first; `text` holds the same numbers " +
      "written for people.",
  }),
);

// Alike in form with BreakdownBody above (see there).
/** `GET /kpis/{name}/drivers`. */
export const DriversBody = component(
  "KPIDrivers",
  z.looseObject({}).meta({
    description: "`{change, drivers: [{segment, contribution, " +
      "contributionPct, rateEffect?, mixEffect?}], unexplained, note}`; " +
      "`text` holds the numbers written for people.",
  }),
);
