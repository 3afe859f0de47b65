/**
 * `${VAR}` expansion for configuration values.
 *
 * @module
 */

/** Matches `$${...}`, `\${...}` (escapes) and `${...}` references. */
const REFERENCE = /(\$\$|\\\$|\$)\{([^}]*)\}/g;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Replaces every `${NAME}` in `text` with `env[NAME]`.
 *
 * `${NAME:-fallback}` uses `fallback` when the variable is unset or empty.
 * `$${NAME}` and `\${NAME}` are escapes that leave a literal `${NAME}`.
 * Only the text is substituted: the result is never parsed again, so a
 * variable's value cannot inject configuration structure.
 *
 * @param text The text to expand.
 * @param env The variables to read, e.g. a snapshot of the environment.
 * @returns The text with every reference replaced.
 * @throws {RangeError} When a referenced variable is not set (naming it), or
 * a reference is malformed, e.g. `${1X}`.
 *
 * @example Expanding a secret and escaping a literal
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const env = { SLACK_TOKEN: "abc" };
 * assert.equal(expandEnv("https://hooks/${SLACK_TOKEN}", env), "https://hooks/abc");
 * assert.equal(expandEnv("${MISSING:-none}", env), "none");
 * assert.equal(expandEnv("cost: $${PRICE}", env), "cost: ${PRICE}");
 * assert.throws(() => expandEnv("${MISSING}", env), RangeError);
 * ```
 */
export function expandEnv(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
): string {
  if (!text.includes("{")) return text;
  return text.replace(REFERENCE, (whole, lead: string, body: string) => {
    if (lead !== "$") return whole.slice(1);
    const sep = body.indexOf(":-");
    const name = sep === -1 ? body : body.slice(0, sep);
    if (!VAR_NAME.test(name)) {
      throw new RangeError(
        `Malformed variable reference "${whole}": expected \${NAME} or \${NAME:-fallback} with NAME of letters, digits and underscores (write $\${...} for a literal)`,
      );
    }
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    if (sep !== -1) {
      return value === undefined || value === "" ? body.slice(sep + 2) : value;
    }
    if (value === undefined) {
      throw new RangeError(`Environment variable "${name}" is not set`);
    }
    return value;
  });
}
