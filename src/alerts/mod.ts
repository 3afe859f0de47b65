/**
 * Alerts: which rules fire, the state decision (notify, repeat, resolve,
 * stay quiet), rendered messages, dedup keys, and the payloads of each
 * channel kind (built in each kind's folder under the adapters, pure, and
 * re-exported here). Sending is done by the channels in the adapters.
 *
 * @module
 */

export * from "./alert_dedup_key.ts";
export * from "../adapters/channels/email/build_email_content.ts";
export * from "../adapters/channels/pagerduty/build_pagerduty_payload.ts";
export * from "../adapters/channels/slack/build_slack_payload.ts";
export * from "../adapters/channels/webhook/build_webhook_payload.ts";
export * from "./decide_alert_action.ts";
export * from "./describe_alerts.ts";
export * from "./parse_duration.ts";
export * from "./plan_alerts.ts";
export * from "./render_alert_message.ts";
