/**
 * YAML positions: the line:column of a key or value in a parsed YAML document (or a JSON one,
 * which YAML reads), so that a problem points where the operator must edit.
 */
import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { LineCounter, Document as YamlDocument } from 'yaml';
import { NOWHERE } from './report.js';
import type { Path, Position } from './report.js';

function nodeStart(node: unknown): number | undefined {
  if (!isScalar(node) && !isMap(node) && !isSeq(node) && !isAlias(node)) return undefined;
  const range = node.range;
  if (!range) return undefined;
  // An empty value (`key:` with nothing after it) has an empty range: point at its key instead.
  if (isScalar(node) && node.value === null && range[0] === range[1]) return undefined;
  return range[0];
}

/**
 * Finds the key and value nodes at `path`; `fold` matches map keys case-insensitively (the
 * last match wins, as Go's JSON decoder keeps the last of duplicate keys).
 */
export function locate(
  doc: YamlDocument,
  counter: LineCounter,
  path: Path,
  at: 'key' | 'value',
  fold: boolean,
): Position {
  let node: unknown = doc.contents;
  let keyNode: unknown;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      let found: { key: unknown; value: unknown } | undefined;
      let foundExact = false;
      for (const pair of node.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        const exact = key === String(seg);
        if (exact || (fold && !foundExact && key.toLowerCase() === String(seg).toLowerCase())) {
          found = pair;
          foundExact = exact;
        }
      }
      if (found === undefined) return NOWHERE;
      keyNode = found.key;
      node = found.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      keyNode = undefined;
      if (node === undefined) return NOWHERE;
    } else {
      return NOWHERE;
    }
  }
  const offset =
    at === 'key'
      ? (nodeStart(keyNode) ?? nodeStart(node))
      : (nodeStart(node) ?? nodeStart(keyNode));
  if (offset === undefined) return NOWHERE;
  const { line, col } = counter.linePos(offset);
  return { line, column: col };
}

/** The line and column of a character offset (the parser's errors and warnings have offsets). */
export function offsetPosition(counter: LineCounter, offset: number): Position {
  const { line, col } = counter.linePos(offset);
  return { line, column: col };
}
