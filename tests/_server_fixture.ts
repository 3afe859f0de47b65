/**
 * A real engine over in-memory tables for the server, dashboard and
 * scheduler tests, with a Deno KV (":memory:") history store.
 *
 * @module
 */

import { KPIEngine } from "../src/kpi_engine.ts";
import { openKvHistoryStore } from "../src/adapters/history_kv/open_kv_history_store.ts";
import type {
  AlertNotifier,
  HistoryAndAlertStore,
  HistoryRecord,
  KPIDefinition,
  SqlClient,
} from "../src/types.ts";

/** "Now" in the tests: mid-December 2024, so 2024-11 is closed. */
export const NOW: Temporal.Instant = Temporal.Instant.from(
  "2024-12-15T12:00:00Z",
);

/** Monthly revenue of the fixture, 2023-10 to 2024-12 (three orders a month). */
export const MONTHLY_REVENUE: Record<string, number> = {
  "2023-10": 4200,
  "2023-11": 4800,
  "2023-12": 5100,
  "2024-01": 4300,
  "2024-02": 4650,
  "2024-03": 5400,
  "2024-04": 5900,
  "2024-05": 5600,
  "2024-06": 6300,
  "2024-07": 6100,
  "2024-08": 6900,
  "2024-09": 7200,
  "2024-10": 6650,
  "2024-11": 7480,
  "2024-12": 3100,
};

/** Columnar orders: three orders per month whose amounts sum to the month's revenue. */
export function ordersTable(
  scale = 1,
): { amount: number[]; refund: number[]; order_date: string[] } {
  const amount: number[] = [];
  const refund: number[] = [];
  const order_date: string[] = [];
  for (const [month, total] of Object.entries(MONTHLY_REVENUE)) {
    const parts = [total * 0.5, total * 0.3, total * 0.2];
    parts.forEach((part, i) => {
      amount.push(part * scale);
      refund.push(i === 0 ? Math.round(total * 0.02) : 0);
      order_date.push(`${month}-${String(3 + i * 9).padStart(2, "0")}`);
    });
  }
  return { amount, refund, order_date };
}

/** The fixture's KPIs: two dataframe KPIs, a derived one and a SQL one. */
export const KPIS: KPIDefinition[] = [
  {
    name: "revenue",
    label: "Revenue",
    source: "dataframe",
    query: "orders.amount",
    aggregation: "sum",
    timeColumn: "order_date",
    unit: "USD",
    compare: ["MoM", "YoY"],
    alerts: [{
      condition: "< 5000",
      severity: "warning",
      message: "Revenue below $5K",
    }],
  },
  {
    name: "orders",
    label: "Orders",
    source: "dataframe",
    query: "orders.amount",
    aggregation: "count",
    timeColumn: "order_date",
    compare: ["MoM", "YoY"],
  },
  {
    name: "refunds",
    label: "Refunds",
    source: "dataframe",
    query: "orders.refund",
    aggregation: "sum",
    timeColumn: "order_date",
    unit: "USD",
    polarity: "lower_is_better",
    compare: ["MoM", "YoY"],
    alerts: [{
      condition: "> 140",
      severity: "critical",
      message: "Refunds above $140",
    }],
  },
  {
    name: "aov",
    label: "Average order value",
    source: "derived",
    expression: "revenue / orders",
    unit: "USD",
    compare: ["MoM", "YoY"],
  },
  {
    name: "active_users",
    label: "Active users",
    source: "sql",
    query: "SELECT 1280",
  },
];

/** A history store that counts appended records. */
export interface CountingStore extends HistoryAndAlertStore {
  /** Records appended so far. */
  readonly appended: HistoryRecord[];
}

/** Opens a KV history store in memory that counts what it is given. */
export async function openCountingStore(): Promise<CountingStore> {
  const inner = await openKvHistoryStore(await Deno.openKv(":memory:"), {
    closeKv: true,
  });
  const appended: HistoryRecord[] = [];
  return {
    appended,
    append: async (records) => {
      appended.push(...records);
      await inner.append(records);
    },
    history: (name, n) => inner.history(name, n),
    close: () => inner.close(),
    getAlertState: (kpi, rule) => inner.getAlertState(kpi, rule),
    putAlertState: (state) => inner.putAlertState(state),
    appendDeliveries: (records) => inner.appendDeliveries(records),
  };
}

/** Options of {@linkcode makeEngine}. */
export interface MakeEngineOptions {
  history?: HistoryAndAlertStore;
  sql?: SqlClient;
  notifier?: AlertNotifier;
  now?: () => Temporal.Instant;
  orders?: Record<string, unknown[]>;
  timezone?: string;
}

/** A real engine over the fixture's tables. */
export function makeEngine(options: MakeEngineOptions = {}): KPIEngine {
  return new KPIEngine({
    kpis: KPIS,
    dataframes: { orders: options.orders ?? ordersTable() },
    now: options.now ?? (() => NOW),
    ...(options.history ? { history: options.history } : {}),
    ...(options.sql ? { sql: options.sql } : {}),
    ...(options.notifier ? { notifier: options.notifier } : {}),
    ...(options.timezone ? { timezone: options.timezone } : {}),
  });
}
