/** A step into a configuration value: a mapping key or a list index. */
export type PathSegment = string | number;

/** A problem found before positions are known. */
export interface RawIssue {
  /** Where, as steps from the top of the file. */
  path: readonly PathSegment[];
  /** What is wrong. */
  message: string;
  /** Point at the key itself (unknown keys) rather than its value. */
  atKey?: boolean;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Renders a path as `kpis[2].alerts[0].condition`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (IDENT.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Quotes a value for a message: strings in double quotes, others as JSON. */
export function quote(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  return describe(value);
}

/** Names a value's kind and, for scalars, the value itself. */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "an empty value (null)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "number" || typeof value === "boolean") {
    return `${typeof value === "number" ? "the number" : ""} ${value}`.trim();
  }
  if (typeof value === "object") return "a mapping";
  return `a ${typeof value}`;
}

/** The value as a plain record, or undefined if it is not one. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : undefined;
}

/** The value as a list, or an empty list. */
export function asList(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The value if it is a string, else undefined. */
export function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
