/**
 * The `kpi-engine` command line: `run`, `validate`, `history`, `serve`,
 * `schedule` and `demo`.
 *
 * ```sh
 * deno run -A cli.ts run --config kpis.yaml --period last_month
 * deno run -A cli.ts validate --config kpis.yaml
 * ```
 *
 * Exit codes: 0 done; 1 the `--fail-on` severity was reached; 2 bad usage or
 * an invalid file; 3 at least one KPI could not be computed.
 *
 * @module
 */
import { main } from "./src/adapters/runtime/cli/main.ts";

export { main };
export type { CliIo } from "./src/adapters/runtime/cli/main.ts";

if (import.meta.main) {
  const code = await main(Deno.args, {
    stdout: (text) => Deno.stdout.writeSync(new TextEncoder().encode(text)),
    stderr: (text) => Deno.stderr.writeSync(new TextEncoder().encode(text)),
    isTerminal: Deno.stdout.isTerminal(),
    env: Deno.env.toObject(),
  });
  Deno.exit(code);
}
