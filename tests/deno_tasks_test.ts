import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;
const CONFIG = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as {
  tasks: Record<string, string | { description?: string; command: string }>;
};

Deno.test("every task in deno.json has a description that `deno task` lists", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const listing = new TextDecoder().decode(output.stdout) +
    new TextDecoder().decode(output.stderr);
  for (const [name, task] of Object.entries(CONFIG.tasks)) {
    assert.equal(typeof task, "object", `task ${name} uses the object form`);
    const description = typeof task === "object" ? task.description ?? "" : "";
    assert.ok(description.length > 10, `task ${name} has a description`);
    assert.ok(listing.includes(description), `deno task lists ${name}'s`);
  }
});

Deno.test("the check task's doc lint prints no wall of type-resolution warnings", async () => {
  const check = CONFIG.tasks["check"];
  const command = typeof check === "object" ? check.command : check ?? "";
  const docLint = command.split("&&").map((part) => part.trim())
    .find((part) => part.startsWith("deno doc"));
  assert.ok(docLint, "the check task runs deno doc --lint");
  const output = await new Deno.Command(Deno.execPath(), {
    args: docLint.split(/\s+/).slice(1),
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) +
    new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, text);
  assert.doesNotMatch(text, /Failed resolving types/);
});
