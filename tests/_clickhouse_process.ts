/**
 * Runs a real ClickHouse HTTP server in this process: `clickhouse-local` as
 * built into libchdb (the engine the npm package `chdb` ships), started with
 * an HTTP listener. It serves until its standard input closes (the process
 * that started it ended), its keep-alive query ends (at most
 * `lifetimeSeconds`) or the process is killed.
 *
 * Usage: deno run --allow-ffi --allow-read --allow-write _clickhouse_process.ts LIBCHDB PORT DATA_DIR LIFETIME_SECONDS
 *
 * @module
 */

const [lib, port, dataDir, lifetime] = Deno.args;
if (!lib || !port || !dataDir || !lifetime) {
  throw new TypeError(
    "Usage: _clickhouse_process.ts LIBCHDB PORT DATA_DIR LIFETIME_SECONDS",
  );
}

const chdb = Deno.dlopen(lib, {
  chdb_query_cmdline: {
    parameters: ["i32", "buffer"],
    result: "pointer",
    nonblocking: true,
  },
  chdb_result_error: { parameters: ["pointer"], result: "pointer" },
});

const args = [
  "clickhouse",
  `--http_port=${port}`,
  "--listen_host=127.0.0.1",
  `--path=${dataDir}`,
  "--query",
  `SYSTEM START LISTEN HTTP; SELECT sleepEachRow(1) FROM numbers(${
    Number(lifetime)
  }) SETTINGS max_block_size = 1, function_sleep_max_microseconds_per_block = 0, max_execution_time = 0 FORMAT Null`,
];
const encoder = new TextEncoder();
const strings = args.map((arg) => encoder.encode(`${arg}\0`));
const pointers = new BigUint64Array(strings.length + 1);
strings.forEach((bytes, i) => {
  pointers[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)));
});
// Ends with the process that started it: its end closes our standard input.
(async () => {
  for await (const _ of Deno.stdin.readable) {
    // Nothing is sent; the loop ends at end of input.
  }
  Deno.exit(0);
})();
const result = await chdb.symbols.chdb_query_cmdline(strings.length, pointers);
const error = result ? chdb.symbols.chdb_result_error(result) : null;
if (error) {
  console.error(new Deno.UnsafePointerView(error).getCString());
  Deno.exit(1);
}
Deno.exit(0);
