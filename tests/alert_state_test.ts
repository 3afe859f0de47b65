import assert from "node:assert/strict";
import {
  type AlertDecisionInput,
  decideAlertAction,
} from "../src/alerts/decide_alert_action.ts";
import type { AlertState } from "../src/types.ts";

const at = (iso: string) => Temporal.Instant.from(iso);

const base: AlertDecisionInput = {
  kpi: "revenue",
  rule: "critical:< 100000",
  holds: true,
  severity: "critical",
  periodStart: "2024-11-01",
  periodEnd: "2024-12-01",
  now: at("2024-12-01T09:00:00Z"),
  channels: ["slack", "pd"],
};

function firing(overrides: Partial<AlertState> = {}): AlertState {
  return {
    kpi: "revenue",
    rule: "critical:< 100000",
    status: "firing",
    severity: "critical",
    periodStart: "2024-11-01",
    periodEnd: "2024-12-01",
    channels: ["slack", "pd"],
    firstFiredAt: "2024-12-01T09:00:00Z",
    lastSentAt: "2024-12-01T09:00:00Z",
    ...overrides,
  };
}

Deno.test("decideAlertAction() fires a rule that starts to hold, to every routed channel", () => {
  const decision = decideAlertAction(null, base);
  assert.equal(decision.action, "fire");
  assert.deepEqual(decision.targets, ["slack", "pd"]);
  assert.deepEqual(decision.state, {
    kpi: "revenue",
    rule: "critical:< 100000",
    status: "firing",
    severity: "critical",
    periodStart: "2024-11-01",
    periodEnd: "2024-12-01",
    channels: [],
    firstFiredAt: "2024-12-01T09:00:00Z",
    lastSentAt: "2024-12-01T09:00:00Z",
  });
  assert.deepEqual(decision.alertPeriod, {
    start: "2024-11-01",
    end: "2024-12-01",
  });
});

Deno.test("decideAlertAction() stays quiet while the same period keeps holding", () => {
  for (const hour of ["10", "15", "23"]) {
    const decision = decideAlertAction(firing(), {
      ...base,
      now: at(`2024-12-01T${hour}:00:00Z`),
    });
    assert.equal(decision.action, "none");
    assert.equal(decision.state, null);
  }
});

Deno.test("decideAlertAction() treats overlapping periods as the same alert", () => {
  const monthToDate = firing({
    periodStart: "2024-12-01",
    periodEnd: "2024-12-05",
  });
  const decision = decideAlertAction(monthToDate, {
    ...base,
    periodStart: "2024-12-01",
    periodEnd: "2024-12-06",
  });
  assert.equal(decision.action, "none");
});

Deno.test("decideAlertAction() fires anew for a later period or another severity", () => {
  const december = decideAlertAction(firing(), {
    ...base,
    periodStart: "2024-12-01",
    periodEnd: "2025-01-01",
  });
  assert.equal(december.action, "fire");
  assert.deepEqual(december.alertPeriod, {
    start: "2024-12-01",
    end: "2025-01-01",
  });
  const louder = decideAlertAction(firing({ severity: "warning" }), base);
  assert.equal(louder.action, "fire");
});

Deno.test("decideAlertAction() repeats after repeatInterval, measured from the last send", () => {
  const state = firing({ lastSentAt: "2024-12-01T09:00:00Z" });
  const early = decideAlertAction(state, {
    ...base,
    now: at("2024-12-01T12:59:59Z"),
    repeatInterval: "4h",
  });
  assert.equal(early.action, "none");
  const due = decideAlertAction(state, {
    ...base,
    now: at("2024-12-01T13:00:00Z"),
    repeatInterval: "4h",
  });
  assert.equal(due.action, "repeat");
  assert.deepEqual(due.targets, ["slack", "pd"]);
  assert.equal(due.state?.lastSentAt, "2024-12-01T13:00:00Z");
  assert.equal(due.state?.firstFiredAt, "2024-12-01T09:00:00Z");
  assert.deepEqual(due.alertPeriod, { start: "2024-11-01", end: "2024-12-01" });
  const ms = decideAlertAction(state, {
    ...base,
    now: at("2024-12-01T09:00:01Z"),
    repeatInterval: 1000,
  });
  assert.equal(ms.action, "repeat");
  assert.throws(
    () => decideAlertAction(state, { ...base, repeatInterval: "soon" }),
    RangeError,
  );
});

Deno.test("decideAlertAction() resolves once, to the channels that were told", () => {
  const state = firing({ channels: ["slack"] });
  const decision = decideAlertAction(state, {
    ...base,
    holds: false,
    periodStart: "2024-12-01",
    periodEnd: "2025-01-01",
    now: at("2025-01-01T09:00:00Z"),
  });
  assert.equal(decision.action, "resolve");
  assert.deepEqual(decision.targets, ["slack"]);
  assert.deepEqual(decision.alertPeriod, {
    start: "2024-11-01",
    end: "2024-12-01",
  });
  assert.equal(decision.state?.status, "resolved");
  const again = decideAlertAction(decision.state, {
    ...base,
    holds: false,
    periodStart: "2024-12-01",
    periodEnd: "2025-01-01",
  });
  assert.equal(again.action, "none");
  assert.equal(
    decideAlertAction(null, { ...base, holds: false }).action,
    "none",
  );
});

Deno.test("decideAlertAction() fires again after a resolve when the rule holds again", () => {
  const resolved = firing({
    status: "resolved",
    periodStart: "2024-12-01",
    periodEnd: "2025-01-01",
  });
  const decision = decideAlertAction(resolved, {
    ...base,
    periodStart: "2024-12-01",
    periodEnd: "2025-01-01",
  });
  assert.equal(decision.action, "fire");
});

Deno.test("decideAlertAction() catches up on routed channels that were not told", () => {
  const decision = decideAlertAction(firing({ channels: ["slack"] }), base);
  assert.equal(decision.action, "fire");
  assert.deepEqual(decision.targets, ["pd"]);
  assert.deepEqual(decision.state?.channels, ["slack"]);
  assert.equal(decision.state?.firstFiredAt, "2024-12-01T09:00:00Z");
});

Deno.test("decideAlertAction() leaves state alone for unknown outcomes and backfills", () => {
  assert.equal(
    decideAlertAction(firing(), { ...base, holds: null }).action,
    "none",
  );
  const october = {
    ...base,
    periodStart: "2024-10-01",
    periodEnd: "2024-11-01",
  };
  assert.equal(decideAlertAction(firing(), october).action, "none");
  assert.equal(
    decideAlertAction(firing(), { ...october, holds: false }).action,
    "none",
  );
});
