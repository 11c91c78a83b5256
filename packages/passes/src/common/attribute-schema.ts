/**
 * The attribute types (and the few value constraints) the analyses, kernels and rewrites rely
 * on, and the one check they all make before reading a node's attributes.
 *
 * `Node.getInt('axis')` throws a GraphError when a file stores `axis` as a FLOAT or a STRING,
 * and a kernel or a loop bound driven by `group = 0` or `strides = [0]` divides by zero or never
 * ends. Such a node is malformed: ONNX Runtime rejects it at session creation. Rather than guard
 * every read, every consumer asks `attributeProblem(node)` first and treats a node with a
 * problem as malformed — shape inference reports a `bad-attribute` diagnostic and leaves its
 * outputs as declared, the analysis marks the layer unknown, the kernels refuse it and the
 * rewrites decline with reason `bad-attribute`.
 *
 * Each op declares its attributes in its module (ops/, the `attributes` facet, from the shared
 * vocabulary in ops/attributes.ts); the tables here are derived from the registry. They name
 * every attribute this package reads (a test checks that against the sources). Types follow the
 * ONNX operator schemas; a name whose type differs between ops (`value`: a TENSOR on
 * Constant/ConstantOfShape, a FLOAT on Pad before opset 11) is typed per op. A node of another
 * domain (onnxruntime's com.microsoft ops) is checked against its own op's declared schema, when
 * it declares one: its shape rule and cost read those attributes too, and a FLOAT `transA` on a
 * FusedMatMul made them throw. Reference attributes (inside function bodies) are skipped: they
 * carry no value to check.
 */
import { AttributeType, type Node } from '@onnxkit/graph';
import { OPS } from '../ops/registry.js';
import { isUndeclared, type AttributeSchema, type AttributeSpec } from '../ops/types.js';
import { lookup, opTable } from './op-table.js';

export type { AttributeSpec } from '../ops/types.js';

const sameSpec = (a: AttributeSpec, b: AttributeSpec): boolean => a.type === b.type && a.check === b.check;

/**
 * The ops' schemas split in two: names every declaring op types the same way (checked on any
 * default-domain node), and per op the names whose type depends on the op.
 */
function deriveSchema(): { byName: Readonly<Record<string, AttributeSpec>>; perOp: Readonly<Record<string, Readonly<Record<string, AttributeSpec>>>> } {
  const byName = new Map<string, AttributeSpec>();
  const conflicting = new Set<string>();
  for (const op of OPS) {
    if (op.domain !== '' || isUndeclared(op.attributes)) continue;
    for (const [name, spec] of Object.entries(op.attributes)) {
      const seen = byName.get(name);
      if (seen === undefined) byName.set(name, { type: spec.type, ...(spec.check ? { check: spec.check } : {}) });
      else if (!sameSpec(seen, spec)) conflicting.add(name);
    }
  }
  const perOp: [string, Readonly<Record<string, AttributeSpec>>][] = [];
  for (const op of OPS) {
    if (op.domain !== '' || isUndeclared(op.attributes)) continue;
    const own = Object.entries(op.attributes).filter(([name]) => conflicting.has(name));
    if (own.length > 0) perOp.push([op.type, opTable(own)]);
  }
  for (const name of conflicting) byName.delete(name);
  return { byName: opTable(byName), perOp: opTable(perOp) };
}

const SCHEMA = deriveSchema();

/** Expected type by attribute name (default-domain ops), derived from the ops' schemas. */
export const ATTRIBUTE_TYPES: Readonly<Record<string, AttributeSpec>> = SCHEMA.byName;

/** Per-op exceptions to ATTRIBUTE_TYPES (same name, another type on another op). */
const PER_OP = SCHEMA.perOp;

/** The type this package expects for attribute `name` of a default-domain `opType`, if it reads it. */
export function expectedAttributeType(opType: string, name: string): AttributeType | undefined {
  const own = lookup(PER_OP, opType);
  return ((own && lookup(own, name)) ?? lookup(ATTRIBUTE_TYPES, name))?.type;
}

/** Per other domain, op type → the schema its op declares (built once; no string keys per node). */
const OTHER_DOMAINS: ReadonlyMap<string, Readonly<Record<string, AttributeSchema>>> = (() => {
  const byDomain = new Map<string, [string, AttributeSchema][]>();
  for (const op of OPS) {
    if (op.domain === '' || isUndeclared(op.attributes)) continue;
    let rows = byDomain.get(op.domain);
    if (rows === undefined) byDomain.set(op.domain, (rows = []));
    rows.push([op.type, op.attributes]);
  }
  return new Map([...byDomain].map(([d, rows]) => [d, opTable(rows)]));
})();

/**
 * What is wrong with `node`'s attributes, as a sentence naming the attribute, or undefined when
 * every attribute this package reads has the expected type and an acceptable value.
 */
export function attributeProblem(node: Node): string | undefined {
  if (node.attributes.size === 0) return undefined;
  let own: Readonly<Record<string, AttributeSpec>> | undefined;
  let shared: Readonly<Record<string, AttributeSpec>> | undefined;
  if (node.isOnnxDomain) {
    own = lookup(PER_OP, node.opType);
    shared = ATTRIBUTE_TYPES;
  } else {
    const domain = OTHER_DOMAINS.get(node.domain);
    own = domain && lookup(domain, node.opType);
    if (own === undefined) return undefined;
  }
  for (const a of node.attributes.values()) {
    if (a.isRef) continue;
    const spec = (own && lookup(own, a.name)) ?? (shared && lookup(shared, a.name));
    if (spec === undefined) continue;
    if (a.type !== spec.type) return `attribute '${a.name}' is ${AttributeType[a.type] ?? `type ${a.type}`}, not ${AttributeType[spec.type]}`;
    const why = spec.check?.(a.value!);
    if (why !== undefined) return `attribute '${a.name}' ${why}`;
  }
  return undefined;
}
