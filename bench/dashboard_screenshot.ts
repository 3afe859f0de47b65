/**
 * Regenerates `docs/dashboard.png` from the demo: starts what `deno task
 * dashboard` runs (the demo shop, its backfilled history, the server) on a
 * free port, opens the dashboard in headless Chromium (Debian's `chromium`,
 * driven by playwright-core, as the dashboard test does) at 1280×800 on
 * last month, and saves a screenshot.
 *
 * ```sh
 * deno run -A bench/dashboard_screenshot.ts [out.png]
 * ```
 *
 * @module
 */

import { chromium } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";
const ROOT = new URL("../", import.meta.url);
/** What `deno task dashboard` runs (checked against deno.json below). */
const DEMO = ["run", "-A", "src/adapters/runtime/demo/serve_demo.ts"];

async function main(out: string): Promise<void> {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  ) as { tasks: { dashboard: { command: string } } };
  if (config.tasks.dashboard.command !== `deno ${DEMO.join(" ")}`) {
    throw new Error(
      `deno task dashboard runs "${config.tasks.dashboard.command}": update DEMO in this script`,
    );
  }
  const demo = new Deno.Command(Deno.execPath(), {
    args: DEMO,
    cwd: ROOT.pathname,
    env: { PORT: "0", HOST: "127.0.0.1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const url = await listeningUrl(demo);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run"],
    });
    try {
      const page = await browser.newPage({
        viewport: { width: 1280, height: 800 },
        locale: "en-US",
        colorScheme: "light",
      });
      await page.goto(url);
      await page.waitForSelector("body[data-state=ready]", { timeout: 60_000 });
      await page.screenshot({ path: out, fullPage: true });
    } finally {
      await browser.close();
    }
    console.log(`Wrote ${out} from ${url}`);
  } finally {
    demo.kill("SIGTERM");
    await demo.status;
  }
}

/** Reads the demo's output until it prints where it listens. */
async function listeningUrl(demo: Deno.ChildProcess): Promise<string> {
  void demo.stdout.pipeTo(Deno.stderr.writable, { preventClose: true });
  const reader = demo.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const encoder = new TextEncoder();
  let seen = "";
  while (true) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`The demo stopped before listening:\n${seen}`);
    seen += value;
    await Deno.stderr.write(encoder.encode(value));
    const match = /Listening on (http:\/\/\S+?\/)/.exec(seen);
    if (match?.[1] !== undefined) {
      // Keep draining the demo's log so that it never blocks on a full pipe.
      void (async () => {
        while (!(await reader.read()).done);
      })().catch(() => {});
      return match[1];
    }
  }
}

if (import.meta.main) {
  await main(
    Deno.args[0] ?? new URL("docs/dashboard.png", ROOT).pathname,
  );
}
