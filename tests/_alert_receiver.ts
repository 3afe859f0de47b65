/**
 * Test helpers for the alert tests: an HTTP receiver on 127.0.0.1 that
 * records what it is sent and answers as scripted, a real SMTP server, and
 * batch builders.
 */

import { SMTPServer } from "smtp-server";
import type {
  AlertBatch,
  AlertRule,
  ComparisonResult,
  KPIResult,
  RuleEvaluation,
} from "../src/types.ts";
import { renderAlertMessage } from "../src/alerts/render_alert_message.ts";
import { evaluateCondition } from "../src/expression/condition.ts";

/** One request the receiver got. */
export interface Received {
  path: string;
  headers: Headers;
  body: string;
  json: unknown;
}

/** How the receiver answers one request. */
export interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
}

/** A recording HTTP server. */
export interface Receiver {
  url: string;
  port: number;
  requests: Received[];
  /** Answers the next requests to `path` in order; then 200 "ok". */
  script(path: string, answers: Answer[]): void;
  on(path: string): Received[];
  close(): Promise<void>;
}

/** Starts a receiver on a free port of 127.0.0.1. */
export function startReceiver(): Receiver {
  const requests: Received[] = [];
  const scripts = new Map<string, Answer[]>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const path = new URL(request.url).pathname;
      const body = await request.text();
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {
        // not JSON
      }
      requests.push({ path, headers: request.headers, body, json });
      const answer = scripts.get(path)?.shift() ?? {};
      if (answer.delayMs) {
        await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
      }
      return new Response(answer.body ?? "ok", {
        status: answer.status ?? 200,
        headers: answer.headers ?? {},
      });
    },
  );
  const port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    script(path, answers) {
      scripts.set(path, [...answers]);
    },
    on(path) {
      return requests.filter((r) => r.path === path);
    },
    async close() {
      await server.shutdown();
    },
  };
}

/** A port on 127.0.0.1 with nothing listening. */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** One message the SMTP server took. */
export interface Mail {
  from: string;
  to: string[];
  raw: string;
  user: string | null;
  secure: boolean;
}

/** A real SMTP server for the tests. */
export interface SmtpReceiver {
  port: number;
  mails: Mail[];
  close(): Promise<void>;
}

/**
 * Starts an SMTP server (the `smtp-server` package) on 127.0.0.1.
 * `secure` makes it TLS from the first byte; otherwise it offers STARTTLS
 * unless `noStartTls`. With `users`, logins are checked against them.
 */
export async function startSmtp(
  options: {
    secure?: boolean;
    noStartTls?: boolean;
    users?: Record<string, string>;
    rejectWith?: { code: number; message: string };
  } = {},
): Promise<SmtpReceiver> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    secure: options.secure ?? false,
    hideSTARTTLS: options.noStartTls ?? false,
    authOptional: options.users === undefined,
    disabledCommands: options.users === undefined ? ["AUTH"] : [],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      const users = options.users ?? {};
      if (auth.username && users[auth.username] === auth.password) {
        callback(null, { user: auth.username });
      } else {
        callback(new Error("Invalid username or password"));
      }
    },
    onData(stream, session, callback) {
      const chunks: Uint8Array[] = [];
      stream.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      stream.on("end", () => {
        if (options.rejectWith) {
          const error = new Error(options.rejectWith.message) as Error & {
            responseCode: number;
          };
          error.responseCode = options.rejectWith.code;
          callback(error);
          return;
        }
        const raw = new TextDecoder().decode(
          new Uint8Array(chunks.flatMap((c) => [...c])),
        );
        mails.push({
          from: session.envelope.mailFrom
            ? session.envelope.mailFrom.address
            : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          user: typeof session.user === "string" ? session.user : null,
          secure: session.secure,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve())
  );
  const address = server.server.address() as { port: number };
  return {
    port: address.port,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The parts of a MIME message, enough to check subject, text and HTML. */
export function parseMail(raw: string): {
  subject: string;
  headers: Record<string, string>;
  text: string;
  html: string;
} {
  const [head = "", ...rest] = raw.split(/\r?\n\r?\n/);
  const headers = parseHeaders(head);
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(
    headers["content-type"] ?? "",
  )?.[1];
  const bodyText = rest.join("\r\n\r\n");
  let text = "";
  let html = "";
  if (boundary) {
    for (const part of bodyText.split(`--${boundary}`)) {
      const [partHead = "", ...partBody] = part.replace(/^\r?\n/, "").split(
        /\r?\n\r?\n/,
      );
      const ph = parseHeaders(partHead);
      const decoded = decodePart(
        partBody.join("\r\n\r\n"),
        ph["content-transfer-encoding"] ?? "7bit",
      );
      if ((ph["content-type"] ?? "").startsWith("text/plain")) text = decoded;
      if ((ph["content-type"] ?? "").startsWith("text/html")) html = decoded;
    }
  }
  return { subject: decodeWords(headers.subject ?? ""), headers, text, html };
}

function parseHeaders(head: string): Record<string, string> {
  const out: Record<string, string> = {};
  const unfolded = head.replace(/\r?\n[ \t]+/g, " ");
  for (const line of unfolded.split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0) {
      out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
  }
  return out;
}

function decodePart(body: string, encoding: string): string {
  const trimmed = body.replace(/\r?\n$/, "");
  switch (encoding.toLowerCase()) {
    case "quoted-printable": {
      const bytes: number[] = [];
      const soft = trimmed.replace(/=\r?\n/g, "");
      for (let i = 0; i < soft.length; i++) {
        if (
          soft[i] === "=" && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))
        ) {
          bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
          i += 2;
        } else {
          bytes.push(...new TextEncoder().encode(soft[i]!));
        }
      }
      return new TextDecoder().decode(new Uint8Array(bytes)).replace(
        /\r\n/g,
        "\n",
      );
    }
    case "base64":
      return new TextDecoder().decode(
        Uint8Array.from(
          atob(trimmed.replace(/\s+/g, "")),
          (c) => c.charCodeAt(0),
        ),
      ).replace(/\r\n/g, "\n");
    default:
      return trimmed.replace(/\r\n/g, "\n");
  }
}

/** Decodes RFC 2047 encoded words (`=?UTF-8?Q?...?=`, `=?UTF-8?B?...?=`). */
function decodeWords(text: string): string {
  return text.replace(/\?=\s+=\?/g, "?==?").replace(
    /=\?([^?]+)\?([QB])\?([^?]*)\?=/gi,
    (_, _charset, kind: string, data: string) => {
      if (kind.toUpperCase() === "B") {
        return new TextDecoder().decode(
          Uint8Array.from(atob(data), (c) => c.charCodeAt(0)),
        );
      }
      const bytes: number[] = [];
      const q = data.replace(/_/g, " ");
      for (let i = 0; i < q.length; i++) {
        if (q[i] === "=") {
          bytes.push(parseInt(q.slice(i + 1, i + 3), 16));
          i += 2;
        } else {
          bytes.push(q.charCodeAt(i));
        }
      }
      return new TextDecoder().decode(new Uint8Array(bytes));
    },
  );
}

/** A result for tests. */
export function makeResult(
  name: string,
  value: number | null,
  options: {
    label?: string;
    unit?: string | null;
    periodStart?: string;
    periodEnd?: string;
    comparisons?: KPIResult["comparisons"];
    error?: string | null;
  } = {},
): KPIResult {
  const comparisons = options.comparisons ?? {};
  return {
    name,
    label: options.label ?? name,
    unit: options.unit === undefined ? "USD" : options.unit,
    value,
    periodStart: options.periodStart ?? "2024-11-01",
    periodEnd: options.periodEnd ?? "2024-12-01",
    comparisons,
    momChangePct: comparisons.MoM?.changePct ?? null,
    yoyChangePct: comparisons.YoY?.changePct ?? null,
    alertStatus: "ok",
    alertsTriggered: [],
    queryDurationMs: 1,
    error: options.error ?? null,
    note: null,
  };
}

/** A comparison for tests. */
export function comparison(
  previousValue: number,
  value: number,
): ComparisonResult {
  const change = value - previousValue;
  return {
    previousValue,
    change,
    changePct: previousValue === 0
      ? null
      : change / Math.abs(previousValue) * 100,
    periodStart: "2024-10-01",
    periodEnd: "2024-11-01",
    favorable: change >= 0,
  };
}

/**
 * A batch with one item per `kpis` entry, built as the engine builds it:
 * each rule's condition is evaluated on the result (unless `holds` forces
 * it) and triggered alerts carry the rendered message.
 */
export function makeBatch(
  kpis: { result: KPIResult; rules: { rule: AlertRule; holds?: boolean }[] }[],
  options: { runId?: string; runAt?: string; periodLabel?: string } = {},
): AlertBatch {
  const first = kpis[0]?.result;
  const periodLabel = options.periodLabel ?? "2024-11";
  return {
    runId: options.runId ?? "run-1",
    runAt: options.runAt ?? "2024-12-01T09:00:00Z",
    period: {
      label: periodLabel,
      start: first?.periodStart ?? "2024-11-01",
      end: first?.periodEnd ?? "2024-12-01",
      timezone: "UTC",
    },
    items: kpis.map(({ result, rules }) => {
      const evaluations: RuleEvaluation[] = rules.map((r) => {
        const holds = r.holds ?? (result.error === null &&
          evaluateCondition(r.rule.condition, result));
        const rule = r.rule;
        return {
          rule,
          ruleId: `${rule.severity}:${rule.condition}`,
          holds,
          triggered: holds
            ? {
              condition: rule.condition,
              severity: rule.severity,
              message: renderAlertMessage(rule, result, { periodLabel }),
            }
            : null,
        };
      });
      result.alertsTriggered = evaluations.flatMap((e) =>
        e.triggered ? [e.triggered] : []
      );
      return {
        definition: {
          name: result.name,
          source: "sql" as const,
          alerts: rules.map((r) => r.rule),
        },
        result,
        rules: evaluations,
      };
    }),
  };
}
