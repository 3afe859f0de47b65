/**
 * The process environment as a read-only record that reads each variable
 * only when asked (`Deno.env.get`), so that a program needs permission for
 * the variables a file names and no others (`--allow-env=SLACK_URL,...`), and
 * never copies the whole environment.
 *
 * @module
 */

/** Variables that are only hints: a denied read counts as unset. */
const OPTIONAL: ReadonlySet<string> = new Set(["NO_COLOR"]);

/**
 * The environment, read lazily: `env.NAME` calls `Deno.env.get("NAME")`.
 * It cannot be listed (`Object.keys` gives nothing).
 *
 * @returns A record whose properties are the environment's variables.
 * @throws {Deno.errors.NotCapable} On reading a variable the program has no
 * permission for (except `NO_COLOR`, which then reads as unset).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * Deno.env.set("KPI_EXAMPLE", "yes");
 * const env = processEnv();
 * assert.equal(env.KPI_EXAMPLE, "yes");
 * assert.equal(Object.hasOwn(env, "KPI_EXAMPLE"), true);
 * assert.deepEqual(Object.keys(env), []);
 * ```
 */
export function processEnv(): Readonly<Record<string, string | undefined>> {
  const read = (name: string | symbol): string | undefined => {
    if (typeof name !== "string") return undefined;
    try {
      return Deno.env.get(name);
    } catch (error) {
      if (OPTIONAL.has(name)) return undefined;
      throw error;
    }
  };
  return new Proxy({} as Record<string, string | undefined>, {
    get: (_target, name) => read(name),
    has: (_target, name) => read(name) !== undefined,
    getOwnPropertyDescriptor: (_target, name) => {
      const value = read(name);
      return value === undefined
        ? undefined
        : { value, enumerable: true, configurable: true, writable: false };
    },
    ownKeys: () => [],
    set: () => false,
    deleteProperty: () => false,
  });
}
