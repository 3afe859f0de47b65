import assert from "node:assert/strict";
import { join } from "node:path";

const ROOT = new URL("../", import.meta.url);
const MOD = new URL("mod.ts", ROOT).href;

Deno.test("docs/series.md: every TypeScript example runs as written", async () => {
  const text = await Deno.readTextFile(new URL("docs/series.md", ROOT));
  const examples = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) =>
    m[1] as string
  );
  assert.ok(examples.length >= 1);
  const dir = await Deno.makeTempDir();
  try {
    for (const [i, code] of examples.entries()) {
      const path = join(dir, `example_${i}.ts`);
      await Deno.writeTextFile(path, code.replaceAll('"./mod.ts"', `"${MOD}"`));
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          `--config=${new URL("deno.json", ROOT).pathname}`,
          path,
        ],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(
        out.code,
        0,
        `example ${i + 1} failed:\n${new TextDecoder().decode(out.stderr)}`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
