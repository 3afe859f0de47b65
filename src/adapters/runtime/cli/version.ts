/**
 * The package's version, as in `deno.json` (a test keeps them equal).
 *
 * @module
 */

/** The version `kpi --version` prints. */
export const VERSION = "0.1.0";
