/**
 * Lookup tables keyed by names that come from a model (op types, attribute names, pass names).
 *
 * A plain object literal inherits from Object.prototype, so `table['constructor']`,
 * `table['toString']` or `table['__proto__']` find a function or an object for an op a fuzzer
 * (or a hostile file) names that way. Every such table in this package is built by `opTable`:
 * a frozen object with no prototype, so any key that was not put in finds `undefined`, while
 * `table[op]`, `op in table`, `Object.keys(table)` and spreading keep working.
 *
 * Also the one test of a node against a default-domain op type (`isOnnxOp`), which the analyses
 * (analyze.ts, executed.ts) read; it lives here, below ops/, analysis/ and rewrite/, so each may.
 */
import type { Node } from '@onnxkit/graph';

/** A frozen, prototype-less copy of `entries`. */
export function opTable<T>(entries: Readonly<Record<string, T>> | Iterable<readonly [string, T]>): Readonly<Record<string, T>> {
  const table = Object.create(null) as Record<string, T>;
  const list: Iterable<readonly [string, T]> = Symbol.iterator in entries ? (entries as Iterable<readonly [string, T]>) : Object.entries(entries);
  for (const [k, v] of list) table[k] = v;
  return Object.freeze(table);
}

/** `table[key]` when `key` is the table's own entry (safe on any object, prototype or not). */
export function lookup<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** `n` is a node of the default ONNX domain of type `opType`. */
export function isOnnxOp(n: Node | null | undefined, opType: string): n is Node {
  return n !== null && n !== undefined && n.isOnnxDomain && n.opType === opType;
}
