/**
 * The `kpi-engine` command line: `run`, `validate`, `history`, `serve`,
 * `schedule` and `demo`.
 *
 * ```sh
 * deno install -g -A --name kpi jsr:@kpi-engine/kpi-engine/cli
 * kpi run --config kpis.yaml --period last_month
 * kpi validate --config kpis.yaml
 * kpi run --help
 * ```
 *
 * Without installing: `deno run -A jsr:@kpi-engine/kpi-engine/cli run ...`.
 *
 * Exit codes: 0 done; 1 the `--fail-on` severity was reached; 2 bad usage or
 * an invalid file; 3 at least one KPI could not be computed.
 *
 * @module
 */
import { main } from "./src/adapters/runtime/cli/main.ts";
import { processEnv } from "./src/adapters/runtime/process_env.ts";

export { main };
export type { CliIo } from "./src/adapters/runtime/cli/main.ts";

if (import.meta.main) {
  const code = await main(Deno.args, {
    stdout: (text) => Deno.stdout.writeSync(new TextEncoder().encode(text)),
    stderr: (text) => Deno.stderr.writeSync(new TextEncoder().encode(text)),
    isTerminal: Deno.stdout.isTerminal(),
    env: processEnv(),
  });
  Deno.exit(code);
}
