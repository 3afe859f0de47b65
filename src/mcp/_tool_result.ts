/**
 * The shapes of tool answers: a JSON result both as structured content and
 * as text (for clients that read only text), and errors as MCP tool errors.
 *
 * @module
 */

/** What a tool answers: text for every client, JSON for those that read it. */
export interface CallToolResult {
  /** The answer as text (JSON, after a lead sentence where there is one). */
  content: { type: "text"; text: string }[];
  /** The answer as JSON. */
  structuredContent?: Record<string, unknown>;
  /** Set when the call failed; the text says why. */
  isError?: boolean;
  /** What the protocol may add. */
  [key: string]: unknown;
}

/** A tool's answer carrying `data` as JSON, with an optional lead sentence. */
export function mcpToolResult(
  data: Record<string, unknown>,
  summary?: string,
  isError = false,
): CallToolResult {
  const json = JSON.stringify(data, null, 2);
  const text = summary === undefined ? json : `${summary}\n\n${json}`;
  return {
    content: [{ type: "text", text }],
    structuredContent: data,
    ...(isError ? { isError: true } : {}),
  };
}

/**
 * A tool error with the message the command line prints for `error` (a
 * `KPIConfigError`'s message is its formatted issues, as `kpi validate`
 * prints them).
 */
export function mcpToolError(error: unknown): CallToolResult {
  const message = error instanceof Error ? error.message : String(error);
  return { content: [{ type: "text", text: message }], isError: true };
}
