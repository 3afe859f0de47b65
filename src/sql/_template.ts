/**
 * Private: reads SQL templates. A small lexer that knows each dialect's
 * strings, quoted identifiers and comments finds `{{ name }}` placeholders,
 * and a renderer turns them into bound parameters in the dialect's
 * placeholder style, so that no value is ever spliced into SQL text.
 *
 * @module
 */

import type { SqlDialect } from "../types.ts";
import { dialectTraits } from "./_dialects.ts";

/** The variables every template gets from the period it is run for. */
export const PERIOD_VARIABLES: readonly string[] = [
  "period_start",
  "period_end",
];

/** One piece of a parsed template. */
export type TemplatePart =
  | { kind: "sql"; text: string }
  | { kind: "comment"; text: string }
  | { kind: "var"; name: string; cast: string | null }
  | {
    kind: "concat";
    pieces: ({ literal: string } | { name: string })[];
    cast: string | null;
  };

/** A template split into SQL text and variables, with facts about its text. */
export interface ParsedTemplate {
  /** The pieces, in order. */
  parts: TemplatePart[];
  /** Variable names in order of first use. */
  variables: string[];
  /** Whether a statement separator `;` occurs before the end. */
  multipleStatements: boolean;
  /** Whether the parentheses outside strings and comments balance. */
  balanced: boolean;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PLACEHOLDER = /\{\{([\s\S]*?)\}\}/g;
const TYPE_KEYWORD =
  /\b(DATE|DATETIME|TIMESTAMP_TZ|TIMESTAMP_NTZ|TIMESTAMP_LTZ|TIMESTAMPTZ|TIMESTAMP|TIME|INTERVAL)\s*$/i;
const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;

/** Reads the name inside `{{ ... }}`, throwing when it is not a plain name. */
function placeholderName(inner: string, whole: string): string {
  const name = inner.trim();
  if (!NAME.test(name)) {
    throw new SyntaxError(
      `Unsupported template expression "${whole}": expected a variable name such as {{ period_start }}`,
    );
  }
  return name;
}

/** Where a lexer is: which quote or comment it is inside. */
interface Lexed {
  /** Plain SQL outside strings and comments, or a string/identifier/comment. */
  kind: "sql" | "string" | "identifier" | "comment";
  /** The full text of the token. */
  text: string;
  /** For strings and quoted identifiers: prefix (E, N, X...), quote and body. */
  prefix?: string;
  open?: string;
  close?: string;
  body?: string;
}

/**
 * Splits SQL into plain text, string literals, quoted identifiers and
 * comments, following the dialect's rules.
 */
export function lexSql(text: string, dialect: SqlDialect): Lexed[] {
  const traits = dialectTraits(dialect);
  const out: Lexed[] = [];
  let plain = "";
  let i = 0;
  const n = text.length;
  const flush = () => {
    if (plain !== "") out.push({ kind: "sql", text: plain });
    plain = "";
  };
  while (i < n) {
    const c = text[i] as string;
    const next = text[i + 1];
    // Line comments: `-- ...` (MySQL wants a space after the dashes) and,
    // on MySQL, `# ...`.
    if (
      (c === "-" && next === "-" &&
        (!traits.dashCommentNeedsSpace || i + 2 >= n ||
          /\s/.test(text[i + 2] as string))) ||
      (c === "#" && traits.hashComments)
    ) {
      const end = text.indexOf("\n", i);
      const stop = end === -1 ? n : end;
      flush();
      out.push({ kind: "comment", text: text.slice(i, stop) });
      i = stop;
      continue;
    }
    if (c === "/" && next === "*") {
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (text[j] === "*" && text[j + 1] === "/") {
          depth--;
          j += 2;
        } else if (
          traits.nestedBlockComments && text[j] === "/" && text[j + 1] === "*"
        ) {
          depth++;
          j += 2;
        } else j++;
      }
      flush();
      out.push({ kind: "comment", text: text.slice(i, j) });
      i = j;
      continue;
    }
    // PostgreSQL dollar quoting: $$...$$ or $tag$...$tag$.
    if (
      c === "$" && traits.dollarQuotes &&
      !(i > 0 && IDENT_CHAR.test(text[i - 1] as string))
    ) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i));
      if (tag) {
        const open = tag[0];
        const end = text.indexOf(open, i + open.length);
        const stop = end === -1 ? n : end + open.length;
        flush();
        out.push({
          kind: "string",
          text: text.slice(i, stop),
          prefix: "",
          open,
          close: open,
          body: text.slice(i + open.length, end === -1 ? n : end),
        });
        i = stop;
        continue;
      }
    }
    // Quoted strings and identifiers.
    const quote = c === "'" || c === '"' || c === "`" ||
      (c === "[" && traits.bracketIdentifiers);
    if (quote) {
      const close = c === "[" ? "]" : c;
      // A letter prefix directly before a single quote: E'..', N'..', X'..'.
      let prefix = "";
      if (c === "'") {
        const m = /(?:^|[^A-Za-z0-9_$])([EeNnXxBbUu](?:&)?)$/.exec(plain);
        if (m && m[1]) {
          prefix = m[1];
          plain = plain.slice(0, plain.length - prefix.length);
        }
      }
      const backslash = traits.backslashEscapes
        ? c === "'" || (c === '"' && traits.doubleQuotedStrings)
        : c === "'" && /^[Ee]$/.test(prefix);
      let j = i + 1;
      while (j < n) {
        const d = text[j];
        if (backslash && d === "\\") {
          j += 2;
          continue;
        }
        if (d === close) {
          if (close !== "]" && text[j + 1] === close) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      const stop = Math.min(j + 1, n);
      flush();
      const isString = c === "'" || (c === '"' && traits.doubleQuotedStrings);
      out.push({
        kind: isString ? "string" : "identifier",
        text: prefix + text.slice(i, stop),
        prefix,
        open: c,
        close,
        body: text.slice(i + 1, Math.min(j, n)),
      });
      i = stop;
      continue;
    }
    plain += c;
    i++;
  }
  flush();
  return out;
}

/**
 * Parses a template for one dialect.
 *
 * @throws {SyntaxError} When a placeholder is not a plain name or sits
 * inside a quoted identifier, or when plain SQL holds a driver parameter.
 */
export function parseTemplate(
  template: string,
  dialect: SqlDialect,
): ParsedTemplate {
  const parts: TemplatePart[] = [];
  const variables: string[] = [];
  const use = (name: string) => {
    if (!variables.includes(name)) variables.push(name);
  };
  let depth = 0;
  let balanced = true;
  let semicolon = false;
  let multipleStatements = false;
  const pushSql = (text: string) => {
    if (text === "") return;
    const last = parts[parts.length - 1];
    if (last && last.kind === "sql") last.text += text;
    else parts.push({ kind: "sql", text });
  };
  /** Takes a trailing type keyword (`DATE`) off the SQL written so far. */
  const casts = dialectTraits(dialect).casts;
  const takeCast = (): string | null => {
    const last = parts[parts.length - 1];
    if (!last || last.kind !== "sql") return null;
    const m = TYPE_KEYWORD.exec(last.text);
    if (!m) return null;
    const cast = casts[(m[1] as string).toUpperCase()];
    if (cast === undefined) return null;
    last.text = last.text.slice(0, m.index);
    return cast;
  };
  /** Notes content after a `;`, which makes a second statement. */
  const content = (text: string) => {
    for (const ch of text) {
      if (ch === ";") semicolon = true;
      else if (!/\s/.test(ch) && semicolon) multipleStatements = true;
    }
  };
  for (const token of lexSql(template, dialect)) {
    if (token.kind === "comment") {
      parts.push({ kind: "comment", text: token.text });
      continue;
    }
    if (token.kind === "sql") {
      const text = token.text;
      content(text);
      for (const ch of text) {
        if (ch === "(") depth++;
        else if (ch === ")" && --depth < 0) balanced = false;
      }
      let from = 0;
      for (const m of text.matchAll(PLACEHOLDER)) {
        const before = text.slice(from, m.index);
        checkDriverParameter(before, dialect);
        pushSql(before);
        const name = placeholderName(m[1] as string, m[0]);
        use(name);
        parts.push({ kind: "var", name, cast: null });
        from = m.index + m[0].length;
      }
      checkDriverParameter(text.slice(from), dialect);
      pushSql(text.slice(from));
      continue;
    }
    content("x");
    const body = token.body ?? "";
    const matches = [...body.matchAll(PLACEHOLDER)];
    if (matches.length === 0) {
      pushSql(token.text);
      continue;
    }
    const first = matches[0] as RegExpMatchArray;
    const only = matches.length === 1 && first[0] === body;
    if (token.kind === "identifier" && !(only && token.open === '"')) {
      throw new SyntaxError(
        `Template variable ${
          first[0]
        } cannot be part of the quoted identifier ${token.text}: variables are bound as values, so write them where a value goes`,
      );
    }
    if (only) {
      const name = placeholderName(first[1] as string, first[0]);
      use(name);
      parts.push({ kind: "var", name, cast: takeCast() });
      continue;
    }
    // A variable inside a longer string becomes a concatenation of the
    // string's other text (kept as literals) and the bound value.
    const pieces: ({ literal: string } | { name: string })[] = [];
    const open = (token.prefix ?? "") + (token.open ?? "'");
    const close = token.close ?? "'";
    let from = 0;
    for (const m of matches) {
      const before = body.slice(from, m.index);
      if (before !== "") pieces.push({ literal: open + before + close });
      const name = placeholderName(m[1] as string, m[0]);
      use(name);
      pieces.push({ name });
      from = (m.index as number) + m[0].length;
    }
    const rest = body.slice(from);
    if (rest !== "") pieces.push({ literal: open + rest + close });
    parts.push({ kind: "concat", pieces, cast: takeCast() });
  }
  if (depth !== 0) balanced = false;
  return { parts, variables, multipleStatements, balanced };
}

function checkDriverParameter(text: string, dialect: SqlDialect): void {
  const found = dialectTraits(dialect).driverParameter(text);
  if (found !== null) {
    throw new SyntaxError(
      `Template contains the driver parameter "${found}" outside a string: write values as template variables such as {{ period_start }} instead`,
    );
  }
}

/** Collects SQL text and bound parameters in the dialect's placeholder style. */
export class SqlBuilder {
  /** The dialect placeholders are written for. */
  readonly dialect: SqlDialect;
  /** The SQL written so far. */
  sql = "";
  /** The parameters bound so far. */
  readonly params: unknown[] = [];

  /** Starts an empty statement. */
  constructor(dialect: SqlDialect) {
    this.dialect = dialect;
  }

  /** Appends SQL text. */
  text(text: string): this {
    this.sql += text;
    return this;
  }

  /** Appends a placeholder bound to `value`. */
  param(value: unknown): this {
    const traits = dialectTraits(this.dialect);
    const bound = typeof value === "boolean" && traits.booleansAsNumbers
      ? (value ? 1 : 0)
      : value;
    this.params.push(bound);
    this.sql += traits.placeholder(this.params.length, bound);
    return this;
  }

  /** Appends a parsed template, binding its variables from `vars`. */
  template(
    parsed: ParsedTemplate,
    vars: Readonly<Record<string, unknown>>,
  ): this {
    for (const part of parsed.parts) {
      if (part.kind === "sql" || part.kind === "comment") {
        this.text(part.text);
      } else if (part.kind === "var") {
        if (part.cast) this.text("CAST(");
        this.param(lookup(vars, part.name));
        if (part.cast) this.text(` AS ${part.cast})`);
      } else {
        if (part.cast) this.text("CAST(");
        const traits = dialectTraits(this.dialect);
        this.text(traits.concatFunction ? "CONCAT(" : "(");
        part.pieces.forEach((piece, index) => {
          if (index > 0) this.text(traits.concatFunction ? ", " : " || ");
          if ("literal" in piece) this.text(piece.literal);
          else {
            this.param(String(lookup(vars, piece.name)));
            this.text(traits.textSuffix(""));
          }
        });
        this.text(")");
        if (part.cast) this.text(` AS ${part.cast})`);
      }
    }
    return this;
  }
}

function lookup(
  vars: Readonly<Record<string, unknown>>,
  name: string,
): unknown {
  if (!Object.hasOwn(vars, name)) {
    const known = Object.keys(vars);
    throw new RangeError(
      `Unknown template variable "${name}": expected one of ${
        known.length > 0 ? known.join(", ") : "(none)"
      }`,
    );
  }
  return vars[name];
}

/**
 * Checks every variable of a template against the known names.
 *
 * @throws {RangeError} Naming the first unknown variable and the known ones.
 */
export function checkVariables(
  parsed: ParsedTemplate,
  known: readonly string[],
): void {
  for (const name of parsed.variables) {
    if (!known.includes(name)) {
      throw new RangeError(
        `Unknown template variable "${name}": expected one of ${
          known.length > 0 ? known.join(", ") : "(none)"
        }`,
      );
    }
  }
}

/**
 * Removes a final `;` (and the whitespace and comments around it) so the
 * template can be nested as a derived table.
 */
export function trimTerminator(parsed: ParsedTemplate): ParsedTemplate {
  const parts = parsed.parts.slice();
  while (parts.length > 0) {
    const last = parts[parts.length - 1] as TemplatePart;
    if (last.kind === "comment") {
      parts.pop();
      continue;
    }
    if (last.kind === "sql") {
      const text = last.text.replace(/[\s;]+$/, "");
      if (text === "") {
        parts.pop();
        continue;
      }
      parts[parts.length - 1] = { kind: "sql", text };
    }
    break;
  }
  return { ...parsed, parts };
}
