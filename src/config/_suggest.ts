/** Edit distance between two strings (insertions, deletions, substitutions, swaps). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from(
    { length: rows },
    (_, i) =>
      Array.from({ length: cols }, (_, j) => i === 0 ? j : j === 0 ? i : 0),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        d[i - 1]![j]! + 1,
        d[i]![j - 1]! + 1,
        d[i - 1]![j - 1]! + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate the input was most likely meant to be: a case-insensitive
 * match, the closest within a small edit distance, or else the only one the
 * input (three characters or more) begins; undefined if none.
 */
export function suggest(
  input: string,
  candidates: Iterable<string>,
): string | undefined {
  const lower = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const c = candidate.toLowerCase();
    if (c === lower) return candidate;
    const distance = editDistance(lower, c);
    const limit = Math.max(1, Math.min(3, Math.floor(c.length / 3)));
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best ?? onlyExtension(lower, candidates);
}

/** The one candidate that begins with `lower` (3+ characters), if only one does. */
function onlyExtension(
  lower: string,
  candidates: Iterable<string>,
): string | undefined {
  if (lower.length < 3) return undefined;
  const hits = [...candidates].filter((c) => c.toLowerCase().startsWith(lower));
  return hits.length === 1 ? hits[0] : undefined;
}

/** `: did you mean "x"?` or the empty string. */
export function didYouMean(
  input: string,
  candidates: Iterable<string>,
): string {
  const hit = suggest(input, candidates);
  return hit === undefined ? "" : `: did you mean ${JSON.stringify(hit)}?`;
}

/**
 * The tail of an "unknown value" message: `: expected one of a, b` or, when
 * one candidate is close, `: did you mean "b"? (expected one of a, b)`.
 * `accepted` words the list when it is not the candidates joined by commas.
 */
export function expectedOneOf(
  input: string,
  candidates: readonly string[],
  accepted = `one of ${candidates.join(", ")}`,
): string {
  const hint = didYouMean(input, candidates);
  return hint === ""
    ? `: expected ${accepted}`
    : `${hint} (expected ${accepted})`;
}
