/**
 * The attribute schema every consumer checks before reading attributes
 * (src/common/attribute-schema.ts): it must cover every attribute name the sources read — or a
 * wrongly typed one could still throw — and must never call a valid model malformed, which the
 * whole ONNX backend corpus and the fixtures check.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AttributeType } from '@onnxkit/graph';
import { load } from '@onnxkit/importer';
import { ATTRIBUTE_TYPES, attributeProblem, expectedAttributeType } from '../../src/common/attribute-schema.js';
import { OPS } from '../../src/ops/registry.js';
import { isUndeclared } from '../../src/ops/types.js';
import { CORPUS_ROOT, corpusAvailable, corpusTests } from '../analysis/corpus.js';
import { ROOT } from '../isolated.js';

const SRC = join(ROOT, 'packages', 'passes', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('the attribute schema', () => {
  it('types every attribute name the sources read by name', () => {
    const read = new Set<string>();
    for (const f of sources(SRC)) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/\.(?:getInt|getInts|getFloat|getFloats|getString|getStrings|getTensor|attr)\('([A-Za-z_]+)'/g)) read.add(m[1]!);
      for (const m of text.matchAll(/intsAttr\(\w+, '([A-Za-z_]+)'/g)) read.add(m[1]!);
      for (const m of text.matchAll(/case '(value[a-z_]*)':/g)) read.add(m[1]!);
    }
    expect(read.size).toBeGreaterThan(40);
    // Names only contrib ops read (com.microsoft QLinearConv's channels_last) are typed by that op's own schema.
    const contrib = new Set(OPS.filter((op) => op.domain !== '' && !isUndeclared(op.attributes)).flatMap((op) => Object.keys(op.attributes)));
    const missing = [...read].filter((name) => ATTRIBUTE_TYPES[name] === undefined && !contrib.has(name) && expectedAttributeType('Constant', name) === undefined && expectedAttributeType('Pad', name) === undefined);
    expect(missing).toEqual([]);
  });

  it('types a name per op where ONNX does (value: TENSOR on Constant, FLOAT on Pad)', () => {
    expect(expectedAttributeType('Constant', 'value')).toBe(AttributeType.TENSOR);
    expect(expectedAttributeType('ConstantOfShape', 'value')).toBe(AttributeType.TENSOR);
    expect(expectedAttributeType('Pad', 'value')).toBe(AttributeType.FLOAT);
    expect(expectedAttributeType('Conv', 'group')).toBe(AttributeType.INT);
    expect(expectedAttributeType('constructor', 'toString')).toBeUndefined();
  });

  it('finds nothing wrong in any node of the ONNX backend corpus or the fixtures', () => {
    const dirs = corpusAvailable() ? ['node', 'pytorch-converted', 'pytorch-operator', 'simple', 'real'].map((d) => join(CORPUS_ROOT, d)) : [];
    const models: string[] = [];
    for (const d of dirs) for (const t of corpusTests(d)) models.push(join(d, t, 'model.onnx'));
    const fixtures = join(ROOT, 'fixtures');
    for (const e of readdirSync(fixtures, { withFileTypes: true })) if (e.isDirectory()) models.push(...readdirSync(join(fixtures, e.name)).filter((f) => f === 'model.onnx').map((f) => join(fixtures, e.name, f)));
    expect(models.length).toBeGreaterThan(dirs.length > 0 ? 1000 : 5);
    const flagged: string[] = [];
    let nodes = 0;
    for (const path of models) {
      const m = load(path);
      for (const g of m.graphs()) {
        for (const n of g) {
          nodes++;
          const p = attributeProblem(n);
          if (p !== undefined) flagged.push(`${path}: ${n.describe()}: ${p}`);
        }
      }
    }
    expect(nodes).toBeGreaterThan(1000);
    expect(flagged).toEqual([]);
  });
});
