/**
 * Private: a check that a statement only reads, for warehouses whose API
 * runs whatever it is sent (BigQuery, Snowflake): the first word after
 * comments and parentheses must be SELECT or WITH. Neither dialect has
 * data-modifying CTEs, and the template parser already refuses a second
 * statement.
 *
 * @module
 */

/**
 * Throws unless the statement starts with SELECT or WITH.
 *
 * @throws {Error} Naming the statement's first word.
 */
export function assertSelect(sql: string, product: string): void {
  const text = sql
    .replace(/^(\s+|--[^\n]*(\n|$)|#[^\n]*(\n|$)|\/\*[\s\S]*?\*\/|\()+/, "");
  const word = /^[A-Za-z]+/.exec(text)?.[0]?.toUpperCase() ?? "";
  if (word !== "SELECT" && word !== "WITH") {
    throw new Error(
      `Only SELECT statements run on ${product}: the engine's queries are read-only, and this one starts with ${
        word === "" ? JSON.stringify(text.slice(0, 20)) : word
      }`,
    );
  }
}
