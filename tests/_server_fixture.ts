/**
 * A real engine over in-memory tables for the server, dashboard and
 * scheduler tests, with a Deno KV (":memory:") history store.
 *
 * @module
 */

import { KPIEngine } from "../src/engine/kpi_engine.ts";
import { openKvHistoryStore } from "../src/adapters/history/kv/open_kv_history_store.ts";
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

/** Monthly revenue and order count of the fixture, 2023-10 to 2024-12. */
export const MONTHS: Record<string, { revenue: number; orders: number }> = {
  "2023-10": { revenue: 4200, orders: 48 },
  "2023-11": { revenue: 4800, orders: 52 },
  "2023-12": { revenue: 5100, orders: 55 },
  "2024-01": { revenue: 4300, orders: 45 },
  "2024-02": { revenue: 4650, orders: 47 },
  "2024-03": { revenue: 5400, orders: 51 },
  "2024-04": { revenue: 5900, orders: 54 },
  "2024-05": { revenue: 5600, orders: 52 },
  "2024-06": { revenue: 6300, orders: 57 },
  "2024-07": { revenue: 6100, orders: 55 },
  "2024-08": { revenue: 6900, orders: 60 },
  "2024-09": { revenue: 7200, orders: 62 },
  "2024-10": { revenue: 6650, orders: 58 },
  "2024-11": { revenue: 7480, orders: 64 },
  "2024-12": { revenue: 3100, orders: 30 },
};

/** Monthly revenue of the fixture. */
export const MONTHLY_REVENUE: Record<string, number> = Object.fromEntries(
  Object.entries(MONTHS).map(([month, { revenue }]) => [month, revenue]),
);

/**
 * Columnar orders: each month's orders (whole amounts summing to its
 * revenue) spread over days 1 to 28 (1 to 14 in December 2024); the first
 * order of a month carries a refund of 2% of the month's revenue.
 */
export function ordersTable(): {
  amount: number[];
  refund: number[];
  order_date: string[];
} {
  const amount: number[] = [];
  const refund: number[] = [];
  const order_date: string[] = [];
  for (const [month, { revenue, orders }] of Object.entries(MONTHS)) {
    const each = Math.floor(revenue / orders);
    const days = month === "2024-12" ? 14 : 28;
    for (let k = 0; k < orders; k++) {
      amount.push(k === orders - 1 ? revenue - each * (orders - 1) : each);
      refund.push(k === 0 ? Math.round(revenue * 0.02) : 0);
      const day = 1 + Math.floor(k * days / orders);
      order_date.push(`${month}-${String(day).padStart(2, "0")}`);
    }
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
    // Grows by 25 a month: 1,275 in November.
    query:
      "SELECT 1000 + 25 * CAST(substr('{{ period_start }}', 6, 2) AS INTEGER)",
    compare: ["MoM"],
  },
  {
    name: "refund_rate",
    label: "Refund rate",
    source: "derived",
    expression: "refunds / revenue * 100",
    unit: "%",
    polarity: "lower_is_better",
    compare: ["MoM"],
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
  /** The KPIs; the fixture's `KPIS` when absent. */
  kpis?: KPIDefinition[];
}

/** A real engine over the fixture's tables. */
export function makeEngine(options: MakeEngineOptions = {}): KPIEngine {
  return new KPIEngine({
    kpis: options.kpis ?? KPIS,
    dataframes: { orders: options.orders ?? ordersTable() },
    now: options.now ?? (() => NOW),
    ...(options.history ? { history: options.history } : {}),
    ...(options.sql ? { sql: options.sql } : {}),
    ...(options.notifier ? { notifier: options.notifier } : {}),
    ...(options.timezone ? { timezone: options.timezone } : {}),
  });
}
