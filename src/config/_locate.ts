import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
} from "yaml";
import type { PathSegment } from "./_path.ts";

/** A 1-based line and column in a file. */
export interface Position {
  line: number;
  column: number;
}

/** Finds where a path is written in a parsed YAML document. */
export type Locator = (
  path: readonly PathSegment[],
  atKey?: boolean,
) => Position | null;

/**
 * A locator over one document: the value's position, or with `atKey` the
 * key's; a key that is missing resolves to the mapping that lacks it.
 */
export function yamlLocator(doc: Document, counter: LineCounter): Locator {
  const at = (node: Node | null | undefined): Position | null => {
    const offset = node?.range?.[0];
    if (offset === undefined) return null;
    const { line, col } = counter.linePos(offset);
    return { line, column: col };
  };
  const resolve = (node: unknown): Node | null => {
    let current = node;
    for (let hops = 0; isAlias(current) && hops < 100; hops++) {
      current = current.resolve(doc);
    }
    return (current ?? null) as Node | null;
  };
  return (path, atKey = false) => {
    let node = resolve(doc.contents);
    let best = at(node) ?? { line: 1, column: 1 };
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => {
          const key = isScalar(p.key) ? p.key.value : p.key;
          return String(key) === String(seg);
        });
        if (pair === undefined) return best;
        const keyNode = isScalar(pair.key) ? pair.key : null;
        const value = resolve(pair.value);
        if (last && atKey) return at(keyNode) ?? best;
        best = at(value) ?? at(keyNode) ?? best;
        node = value;
      } else if (isSeq(node) && typeof seg === "number") {
        const item = resolve(node.items[seg]);
        if (item === null) return best;
        best = at(item) ?? best;
        node = item;
      } else {
        return best;
      }
    }
    return best;
  };
}
