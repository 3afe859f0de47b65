import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";

/** Options of {@linkcode ensureDemoDatabase}. */
export interface DemoDatabaseOptions {
  /** The last day with orders. @default today in UTC */
  today?: Temporal.PlainDate;
  /** How many days of orders, ending today. @default 730 */
  days?: number;
  /** Seed of the pseudo-random numbers, for repeatable data. @default 42 */
  seed?: number;
  /** Progress messages. @default none */
  log?: (text: string) => void;
}

const REGIONS = [
  { name: "North America", weight: 0.4, basket: 1.1 },
  { name: "Europe", weight: 0.3, basket: 1.0 },
  { name: "Asia Pacific", weight: 0.2, basket: 0.9 },
  { name: "Latin America", weight: 0.1, basket: 0.8 },
] as const;

/** Sales channels and devices, with their shares of orders. */
const CHANNELS = [
  { name: "web", weight: 0.45 },
  { name: "ads", weight: 0.25 },
  { name: "email", weight: 0.15 },
  { name: "partner", weight: 0.15 },
] as const;
const DEVICES = [
  { name: "mobile", weight: 0.55 },
  { name: "desktop", weight: 0.35 },
  { name: "tablet", weight: 0.1 },
] as const;

/** Relative order volume by ISO weekday, Monday first. */
const WEEKDAY_FACTOR = [0.9, 0.92, 0.95, 1.0, 1.1, 1.3, 1.2] as const;

/**
 * Builds the demo shop database unless a current one exists: users in four
 * regions and two years of daily orders up to today (each with a region,
 * a sales channel and a device, the dimensions to break KPIs down by), with weekly and yearly
 * seasonality, growth, and about 5% refunds, and a daily revenue plan. The data is pseudo-random with
 * a fixed seed, so two builds on the same day are identical.
 *
 * @param path The SQLite file to create.
 * @param options The last day, span, seed and a progress callback.
 * @returns The path.
 */
export async function ensureDemoDatabase(
  path: string,
  options: DemoDatabaseOptions = {},
): Promise<string> {
  const today = options.today ?? Temporal.Now.plainDateISO("UTC");
  if (await isCurrent(path, today)) return path;
  await Deno.mkdir(dirname(path), { recursive: true });
  const building = `${path}.building`;
  await Deno.remove(building).catch(() => {});
  options.log?.(`Building the demo shop database at ${path} ...\n`);
  const db = new DatabaseSync(building);
  try {
    fillDemoDatabase(db, today, options.days ?? 730, options.seed ?? 42);
  } finally {
    db.close();
  }
  await Deno.rename(building, path);
  return path;
}

async function isCurrent(
  path: string,
  today: Temporal.PlainDate,
): Promise<boolean> {
  try {
    await Deno.stat(path);
  } catch {
    return false;
  }
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const row = db.prepare("SELECT MAX(order_date) AS last FROM orders").get();
    // A database built before the revenue plan existed is rebuilt.
    db.prepare("SELECT 1 FROM revenue_plan LIMIT 1").get();
    return row?.["last"] === today.toString();
  } catch {
    return false;
  } finally {
    db.close();
  }
}

/**
 * Writes the demo tables into an open database.
 *
 * @param db An empty database.
 * @param today The last day with orders.
 * @param days How many days of orders.
 * @param seed Seed of the pseudo-random numbers.
 */
export function fillDemoDatabase(
  db: DatabaseSync,
  today: Temporal.PlainDate,
  days: number,
  seed: number,
): void {
  const random = mulberry32(seed);
  // Channels and devices draw from their own sequence, so that adding them
  // left every other number of the demo as it was.
  const randomSegment = mulberry32(seed ^ 0x5bd1e995);
  const pick = (
    options: readonly { name: string; weight: number }[],
  ): string => {
    let r = randomSegment();
    for (const option of options) {
      r -= option.weight;
      if (r <= 0) return option.name;
    }
    return options[options.length - 1]!.name;
  };
  const first = today.subtract({ days: days - 1 });
  db.exec(`
    CREATE TABLE users (
      id INTEGER PRIMARY KEY,
      region TEXT NOT NULL,
      signup_date TEXT NOT NULL
    );
    CREATE TABLE orders (
      id INTEGER PRIMARY KEY,
      user_id INTEGER NOT NULL REFERENCES users(id),
      region TEXT NOT NULL,
      channel TEXT NOT NULL,
      device TEXT NOT NULL,
      order_date TEXT NOT NULL,
      amount REAL NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('completed', 'refunded')),
      refunded INTEGER NOT NULL
    );
  `);
  const insertUser = db.prepare(
    "INSERT INTO users (id, region, signup_date) VALUES (?, ?, ?)",
  );
  const insertOrder = db.prepare(
    "INSERT INTO orders (user_id, region, channel, device, order_date, amount, status, refunded) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  );
  db.exec("BEGIN");
  const userRegions: number[] = [];
  const pickRegion = (): number => {
    let r = random();
    for (let i = 0; i < REGIONS.length; i++) {
      r -= REGIONS[i]!.weight;
      if (r <= 0) return i;
    }
    return REGIONS.length - 1;
  };
  const addUser = (day: Temporal.PlainDate): void => {
    const region = pickRegion();
    userRegions.push(region);
    insertUser.run(userRegions.length, REGIONS[region]!.name, day.toString());
  };
  for (let i = 0; i < 3000; i++) addUser(first);
  for (let d = 0; d < days; d++) {
    const day = first.add({ days: d });
    const expected = expectedOrders(day, d, days);
    const orders = Math.max(0, Math.round(expected * (0.9 + 0.2 * random())));
    const signups = Math.round(6 + 6 * random());
    for (let s = 0; s < signups; s++) addUser(day);
    const date = day.toString();
    for (let o = 0; o < orders; o++) {
      const user = 1 + Math.floor(random() * userRegions.length);
      const region = REGIONS[userRegions[user - 1]!]!;
      const basket = Math.exp(3.7 + 0.55 * gaussian(random)) * region.basket;
      const amount = Math.round(Math.min(basket, 2000) * 100) / 100 + 4.99;
      const refunded = random() < 0.05 ? 1 : 0;
      insertOrder.run(
        user,
        region.name,
        pick(CHANNELS),
        pick(DEVICES),
        date,
        Math.round(amount * 100) / 100,
        refunded ? "refunded" : "completed",
        refunded,
      );
    }
  }
  db.exec("COMMIT");
  fillRevenuePlan(db, first, today, days);
  db.exec("CREATE INDEX orders_by_date ON orders (order_date)");
  db.exec("ANALYZE");
}

/**
 * The orders a day is expected to have: 260 a day, growing by 35% over the
 * span, with a yearly season peaking in mid-December and a weekly one.
 */
function expectedOrders(
  day: Temporal.PlainDate,
  index: number,
  days: number,
): number {
  const growth = 1 + 0.35 * index / days;
  const season = 1 +
    0.25 * Math.cos(2 * Math.PI * (day.dayOfYear - 350) / 365);
  return 260 * growth * season * WEEKDAY_FACTOR[day.dayOfWeek - 1]!;
}

/**
 * The mean order amount: a log-normal basket, e^(3.7 + 0.55²/2), times the
 * regions' mean basket factor (1.0), plus 4.99 shipping.
 */
const MEAN_AMOUNT = Math.exp(3.7 + 0.55 ** 2 / 2) + 4.99;

/** How far the plan reaches above what the shop is expected to sell. */
const PLAN_STRETCH = 1.03;

/**
 * Writes `revenue_plan`: the completed revenue planned for each day from the
 * first day of orders to the end of today's year, the expected orders times
 * the mean amount less 5% refunds, 3% above expectation and rounded to whole
 * dollars. A period's target is the sum of its days, so every day, week,
 * month, quarter and year has one (`target:` of `revenue` in
 * kpis.example.yaml). It draws no random numbers: the orders stay as they
 * were without it.
 */
function fillRevenuePlan(
  db: DatabaseSync,
  first: Temporal.PlainDate,
  today: Temporal.PlainDate,
  days: number,
): void {
  db.exec("CREATE TABLE revenue_plan (day TEXT PRIMARY KEY, amount REAL)");
  const insert = db.prepare(
    "INSERT INTO revenue_plan (day, amount) VALUES (?, ?)",
  );
  const last = Temporal.PlainDate.from({
    year: today.year,
    month: 12,
    day: 31,
  });
  db.exec("BEGIN");
  for (
    let day = first, d = 0;
    Temporal.PlainDate.compare(day, last) <= 0;
    day = day.add({ days: 1 }), d++
  ) {
    const revenue = expectedOrders(day, d, days) * MEAN_AMOUNT * 0.95;
    insert.run(day.toString(), Math.round(revenue * PLAN_STRETCH));
  }
  db.exec("COMMIT");
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
