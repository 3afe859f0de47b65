import assert from "node:assert/strict";
import { compare } from "../mod.ts";

Deno.test("compare() gives a change without cancellation noise and keeps a sixteenth digit", () => {
  assert.equal(643077.41 - 544405.72, 98671.69000000006);
  assert.equal(compare(643077.41, 544405.72).change, 98671.69);
  assert.equal(
    compare(12345678901234.56, 12345678901000).change,
    234.56,
  );
  assert.equal(
    compare(12345678901234.56, 0.5).change,
    12345678901234.06,
  );
  assert.equal(compare(0.30000000000000004, 0.1).change, 0.2);
  assert.equal(compare(150, 120).changePct, 25);
});
