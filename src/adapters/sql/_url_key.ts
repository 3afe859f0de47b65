/**
 * Private: what the warehouse URLs that sign their own requests (BigQuery,
 * Snowflake) read alike: settings checked against the known ones, and the
 * signing key found in a file the URL names, else in an environment
 * variable holding it, else in the file another variable names.
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";

/**
 * Refuses a URL setting that is not known.
 *
 * @param search The URL's settings.
 * @param known The settings the product reads.
 * @param product The product, for the message (`BigQuery`).
 * @throws {TypeError} Naming the unknown setting and the known ones.
 */
export function checkUrlSettings(
  search: URLSearchParams,
  known: readonly string[],
  product: string,
): void {
  for (const key of search.keys()) {
    if (!known.includes(key)) {
      throw new TypeError(
        `Unknown ${product} setting "${key}" in the URL: expected one of ${
          known.join(", ")
        }`,
      );
    }
  }
}

/** Where a signing key may be found, and how messages name it. */
export interface UrlKeySources {
  /** The URL setting naming a key file (`key_file`). */
  setting: string;
  /** The variable that holds the key itself. */
  inlineVariable: string;
  /** How messages name what `inlineVariable` holds (`the PEM key`). */
  inlineIs: string;
  /** The variable naming a key file. */
  pathVariable: string;
  /** The kind of key, for messages (`private key`). */
  key: string;
  /** Whose key it is, for messages (`Snowflake user "KPI"`). */
  owner: string;
}

/**
 * Finds a signing key: the file the URL's setting names (relative to
 * `baseDir`), else the inline variable, else the file the path variable
 * names.
 *
 * @param search The URL's settings.
 * @param env The environment variables.
 * @param baseDir The folder a relative path resolves against; the current
 * one when undefined.
 * @param sources Where to look, and how messages name the key.
 * @returns The key's text and where it came from (a variable or a path).
 * @throws {TypeError} When no key is named or its file cannot be read.
 */
export async function readUrlKey(
  search: URLSearchParams,
  env: Readonly<Record<string, string | undefined>>,
  baseDir: string | undefined,
  sources: UrlKeySources,
): Promise<{ text: string; source: string }> {
  const inline = env[sources.inlineVariable];
  const named = search.get(sources.setting);
  if (named === null && inline) {
    return { text: inline, source: sources.inlineVariable };
  }
  const file = named ?? (inline ? undefined : env[sources.pathVariable]);
  if (!file) {
    throw new TypeError(
      `No ${sources.key} for ${sources.owner}: set ${sources.setting}= in the URL, ${sources.inlineVariable} (${sources.inlineIs}) or ${sources.pathVariable} (its path)`,
    );
  }
  const path = isAbsolute(file) ? file : resolve(baseDir ?? Deno.cwd(), file);
  try {
    return { text: await Deno.readTextFile(path), source: path };
  } catch (error) {
    throw new TypeError(
      `Cannot read the ${sources.key} of ${sources.owner} from ${path}: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
}
