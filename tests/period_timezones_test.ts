/**
 * Runs the period tests again in child processes whose `TZ` is set to zones
 * on either side of UTC with DST changes, so that nothing in the period code
 * may depend on the process time zone.
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url);
const PERIOD_TESTS = [
  "tests/resolve_period_test.ts",
  "tests/shift_period_test.ts",
  "tests/period_instants_test.ts",
];
const ZONES = ["Australia/Sydney", "Europe/London", "America/Toronto"];

async function run(
  args: string[],
  tz: string,
): Promise<{ code: number; out: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { TZ: tz, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, out: decoder.decode(stdout) + decoder.decode(stderr) };
}

for (const tz of ZONES) {
  Deno.test(`period tests pass with TZ=${tz}`, async () => {
    // The child really runs in that zone.
    const probe = await run([
      "eval",
      "console.log(Intl.DateTimeFormat().resolvedOptions().timeZone)",
    ], tz);
    assert.equal(probe.code, 0, probe.out);
    assert.equal(probe.out.trim(), tz);

    const result = await run(["test", "-A", "--no-check", ...PERIOD_TESTS], tz);
    assert.equal(result.code, 0, result.out);
    assert.match(result.out, /\bok \| \d+ passed \| 0 failed/);
  });
}
