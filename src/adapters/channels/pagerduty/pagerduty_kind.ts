/**
 * The PagerDuty channel kind: its settings, their meaning, defaults and its
 * Events API v2 event. Pure: the sender is `create_pagerduty_channel.ts`.
 *
 * @module
 */

import { z } from "zod";
import { httpUrl, nonEmpty } from "../../../config/setting_schemas.ts";
import { type ChannelKind, resolveAliases } from "../channel_kind.ts";
import { buildPagerDutyPayload } from "./build_pagerduty_payload.ts";

/** Where PagerDuty's Events API v2 takes events. */
export const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";

// Every kind's file has this form (a ChannelKind: its settings, what they
// mean, what is required): the likeness between the kinds is the
// description's shape, not shared logic; each kind's settings are its own.
const settings = z.strictObject({
  type: z.literal("pagerduty"),
  integration_key: nonEmpty("integration_key").optional(),
  routing_key: nonEmpty("routing_key").optional(),
  url: httpUrl("url").optional(),
  source: nonEmpty("source").optional(),
});

/** PagerDuty: Events API v2 (`integration_key`, or `routing_key`). */
export const PAGERDUTY_KIND: ChannelKind = {
  type: "pagerduty",
  settings,
  descriptions: {
    type: "PagerDuty's Events API v2.",
    integration_key:
      'The Events API v2 routing (integration) key, e.g. "${PD_ROUTING_KEY}".',
    routing_key: "Another name for integration_key.",
    url:
      "The Events API endpoint. Default https://events.pagerduty.com/v2/enqueue.",
    source:
      "The event's source field (the affected system). Default kpi-engine.",
  },
  required: [{
    key: "integration_key",
    alternative: "routing_key",
    what: "the Events API v2 routing key of a PagerDuty service",
  }],
  aliases: { routing_key: "integration_key" },
  defaults: { url: PAGERDUTY_EVENTS_URL, source: "kpi-engine" },
  secretKeys: ["integration_key", "routing_key", "url"],
  toConfig: (data) => resolveAliases(PAGERDUTY_KIND, data),
  buildPayload: (message, config) =>
    buildPagerDutyPayload(message, String(config.integration_key ?? "…"), {
      source: String(config.source ?? PAGERDUTY_KIND.defaults.source),
    }),
};
