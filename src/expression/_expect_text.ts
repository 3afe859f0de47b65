/**
 * The type check that opens `parseExpression` and `parseCondition`.
 *
 * @module
 */

/**
 * Throws unless `text` is a string.
 *
 * @param text What the caller was given.
 * @param what What it should be, with its article: "an expression".
 * @throws {TypeError} `Expected an expression string, got number`.
 */
export function expectText(
  text: unknown,
  what: string,
): asserts text is string {
  if (typeof text !== "string") {
    throw new TypeError(
      `Expected ${what} string, got ${text === null ? "null" : typeof text}`,
    );
  }
}
