/**
 * The alert phase of a run at scale: 1,000 KPIs, each with two rules, and
 * three channels (Slack, PagerDuty, webhook) pointing at one local
 * receiver. Times evaluation (conditions and messages, as the engine does
 * them) plus delivery (state reads, sends, state and delivery writes).
 *
 *   deno run -A bench/alerts_bench.ts [--kpis 1000] [--concurrency 16] [--store kv::memory:]
 */

import { parseArgs } from "node:util";
import { createNotifier } from "../src/adapters/channels/create_notifier.ts";
import { openHistoryStore } from "../src/adapters/history/open_history_store.ts";
import {
  evaluateCondition,
  parseCondition,
} from "../src/expression/condition.ts";
import { renderAlertMessage } from "../src/alerts/render_alert_message.ts";
import type {
  AlertBatch,
  AlertRule,
  KPIDefinition,
  KPIResult,
  RuleEvaluation,
} from "../src/types.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    kpis: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "16" },
    store: { type: "string", default: "kv::memory:" },
  },
});
const kpiCount = Number(args.kpis);
const concurrency = Number(args.concurrency);

let received = 0;
const server = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  async (request) => {
    await request.arrayBuffer();
    received++;
    return new Response("ok", {
      status: request.url.endsWith("/pd") ? 202 : 200,
    });
  },
);
const base = `http://127.0.0.1:${server.addr.port}`;
const tempDir = await Deno.makeTempDir({ prefix: "alerts_bench_" });
const store = await openHistoryStore(args.store, { baseDir: tempDir });

const rules: AlertRule[] = [
  { condition: "< 100000", severity: "critical" },
  {
    condition: "MoM < -10% and value > 0",
    severity: "warning",
    message: "{{ label }} fell {{ MoM }} to {{ value }} {{ unit }}",
  },
];
const definitions: KPIDefinition[] = Array.from(
  { length: kpiCount },
  (_, i) => ({
    name: `kpi_${i}`,
    label: `KPI ${i}`,
    source: "sql",
    unit: "USD",
    compare: ["MoM"],
    alerts: rules,
  }),
);
const conditions = rules.map((r) => parseCondition(r.condition));

const day = (month: number) => `2024-${String(month).padStart(2, "0")}-01`;

function results(month: number): KPIResult[] {
  return definitions.map((d, i) => {
    const value = 50000 + i;
    const previous = i % 2 === 0 ? value * 1.5 : value;
    const change = value - previous;
    return {
      name: d.name,
      label: d.label ?? d.name,
      unit: "USD",
      value,
      periodStart: day(month),
      periodEnd: day(month + 1),
      comparisons: {
        MoM: {
          previousValue: previous,
          change,
          changePct: change / previous * 100,
          periodStart: day(month - 1),
          periodEnd: day(month),
          favorable: change >= 0,
        },
      },
      momChangePct: change / previous * 100,
      yoyChangePct: null,
      alertStatus: "ok",
      alertsTriggered: [],
      queryDurationMs: 0,
      error: null,
      note: null,
    };
  });
}

/** Evaluation as the engine does it: conditions, then rendered messages. */
function evaluate(all: KPIResult[], runId: string, label: string): AlertBatch {
  const items = all.map((result, i) => {
    const evaluations: RuleEvaluation[] = rules.map((rule, r) => {
      const holds = evaluateCondition(conditions[r]!, result);
      return {
        rule,
        ruleId: `${rule.severity}:${rule.condition}`,
        holds,
        triggered: holds
          ? {
            condition: rule.condition,
            severity: rule.severity,
            message: renderAlertMessage(rule, result, { periodLabel: label }),
          }
          : null,
      };
    });
    result.alertsTriggered = evaluations.flatMap((e) =>
      e.triggered ? [e.triggered] : []
    );
    return { definition: definitions[i]!, result, rules: evaluations };
  });
  return {
    runId,
    runAt: new Date().toISOString(),
    period: {
      label,
      start: all[0]!.periodStart,
      end: all[0]!.periodEnd,
      timezone: "UTC",
    },
    items,
  };
}

const notifier = createNotifier({
  channels: {
    slack: { type: "slack", webhook_url: `${base}/slack` },
    oncall: {
      type: "pagerduty",
      integration_key: "bench-key",
      url: `${base}/pd`,
    },
    hook: { type: "webhook", url: `${base}/hook`, secret: "bench" },
  },
  store,
  concurrency,
});

interface Row {
  phase: string;
  evalMs: number;
  deliverMs: number;
  alerts: number;
  sends: number;
  failed: number;
}

async function phase(name: string, month: number, runId: string): Promise<Row> {
  const before = received;
  const t0 = performance.now();
  const batch = evaluate(results(month), runId, `2024-${month}`);
  const t1 = performance.now();
  await notifier.notify(batch);
  const t2 = performance.now();
  let alerts = 0;
  let failed = 0;
  for (const item of batch.items) {
    for (const r of item.rules) {
      const deliveries = r.triggered?.deliveries ?? [];
      if (deliveries.length > 0) alerts++;
      failed += deliveries.filter((d) => !d.ok).length;
    }
  }
  return {
    phase: name,
    evalMs: t1 - t0,
    deliverMs: t2 - t1,
    alerts,
    sends: received - before,
    failed,
  };
}

const rows: Row[] = [];
rows.push(await phase("first run (fires)", 10, "run-1"));
rows.push(await phase("same run again (deduplicated)", 10, "run-2"));
rows.push(await phase("next period (fires anew)", 11, "run-3"));

const fmt = (n: number) => n.toFixed(1).padStart(9);
console.log(
  `alerts bench: ${kpiCount} KPIs × ${rules.length} rules × 3 channels, concurrency ${concurrency}, store ${args.store}`,
);
console.log(
  "| phase                          |  eval ms | deliver ms |  total ms | alerts | sends | failed | ms/alert |",
);
console.log(
  "|--------------------------------|---------:|-----------:|----------:|-------:|------:|-------:|---------:|",
);
for (const r of rows) {
  const total = r.evalMs + r.deliverMs;
  console.log(
    `| ${r.phase.padEnd(30)} |${fmt(r.evalMs)} |${
      fmt(r.deliverMs).padStart(11)
    } |${fmt(total).padStart(10)} | ${String(r.alerts).padStart(6)} | ${
      String(r.sends).padStart(5)
    } | ${String(r.failed).padStart(6)} | ${
      r.alerts > 0 ? (total / r.alerts).toFixed(3).padStart(8) : "       -"
    } |`,
  );
}

await store.close();
await server.shutdown();
await Deno.remove(tempDir, { recursive: true });
