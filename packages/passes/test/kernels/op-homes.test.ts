/**
 * One home per operator for the kernels (issue 15): what an op computes — its scalar function,
 * its reducer, its integer forms — is declared in its module under src/ops/ and passed to the
 * generic machinery of src/kernels/ (broadcasting, typed loops, dtype dispatch), for the float32
 * folding kernels and the float64 reference alike. So adding a binary, unary or reduce op with
 * kernels touches its module only: no table keyed by op name in kernels/ to extend.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Attribute, DataType, GraphBuilder, Tensor, type Node } from '@onnxkit/graph';
import { binaryKernel, unaryKernel } from '../../src/kernels/elementwise.js';
import { reduceKernel } from '../../src/kernels/reduce.js';
import { binaryReference, unaryReference } from '../../src/kernels/reference/elementwise.js';
import { reduceReference } from '../../src/kernels/reference/reduce.js';
import { refFromTensor } from '../../src/kernels/reference/tensor.js';
import { OPS } from '../../src/ops/registry.js';
import { ROOT } from '../isolated.js';

const KERNELS = join(ROOT, 'packages', 'passes', 'src', 'kernels');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** The code of a TypeScript file without its comments (doc comments may name ops). */
function code(text: string): string[] {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ''))
    .split('\n')
    .map((line) => line.replace(/(^|\s)\/\/.*$/, ''));
}

describe('kernels/ decides nothing by op name', () => {
  it('has no quoted registered op type and no opType comparison in any kernel source', () => {
    const types = new Set(OPS.map((op) => op.type));
    const found: string[] = [];
    for (const file of sources(KERNELS)) {
      code(readFileSync(file, 'utf8')).forEach((line, i) => {
        const at = `${relative(KERNELS, file)}:${i + 1}`;
        for (const m of line.matchAll(/(['"])([A-Za-z][A-Za-z0-9]*)\1/g)) if (types.has(m[2]!)) found.push(`${at} '${m[2]}'`);
        if (/opType\s*[!=]==|[!=]==\s*[\w.]*opType\b|switch\s*\([\w.]*opType\)|\[[\w.]*opType\]/.test(line)) found.push(`${at} compares opType`);
      });
    }
    expect(found).toEqual([]);
    // The scan reads the folder: the kernel sources are there.
    expect(sources(KERNELS).length).toBeGreaterThan(20);
  });

  it('counts a negative axis from the end only through ops/axes.ts (normAxis is written once)', () => {
    const found: string[] = [];
    for (const file of sources(KERNELS)) {
      code(readFileSync(file, 'utf8')).forEach((line, i) => {
        if (/\b(\w+)\s*<\s*0\s*\?\s*\1\s*\+\s*(rank|r)\b/.test(line)) found.push(`${relative(KERNELS, file)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(found).toEqual([]);
  });
});

describe('an op declared in its module alone gets working kernels', () => {
  const node = (type: string, inputs: number, attrs: Record<string, Attribute> = {}): Node => {
    const b = new GraphBuilder({ opset: 18 });
    const ins = Array.from({ length: inputs }, (_, i) => b.input(`x${i}`, DataType.FLOAT, null));
    b.output(b.op(type, ins, attrs, { name: 'n' }), 'y');
    return [...b.build().graph][0]!;
  };
  const f32 = (dims: number[], values: number[]): Tensor => Tensor.fromNumbers(DataType.FLOAT, dims, values);

  it('a binary op: broadcasting, float32 rounding, int32 wrapping and the float64 reference from its scalar functions', () => {
    // A made-up op, unknown to kernels/: (a − b)².
    const sqDiff = { float: (a: number, b: number) => (a - b) * (a - b), int: (a: number, b: number) => Math.imul(a - b, a - b), big: (a: bigint, b: bigint) => (a - b) * (a - b) };
    const n = node('SquaredDifference', 2);
    const [y] = binaryKernel(sqDiff)(n, [f32([2, 2], [1, 2, 3, 0.1]), f32([2], [0, 1])], 18)!;
    expect(y!.dims).toEqual([2, 2]);
    const d = Math.fround(0.1) - 1;
    expect([...(y!.toArray() as Float32Array)]).toEqual([1, 1, 9, Math.fround(d * d)]);
    const i32 = Tensor.fromNumbers(DataType.INT32, [2], [70000, 0]);
    const [w] = binaryKernel(sqDiff)(n, [i32, Tensor.fromNumbers(DataType.INT32, [1], [0])], 18)!;
    expect([...(w!.toArray() as Int32Array)]).toEqual([Math.imul(70000, 70000), 0]);
    const ref = binaryReference({ f64: () => (p, q) => (p - q) * (p - q), i64: () => (a, b) => (a - b) * (a - b) });
    const [r] = ref(n, [refFromTensor(f32([2], [3, 0.5])), refFromTensor(f32([], [1]))], 18);
    expect([...(r!.data as Float64Array)]).toEqual([4, 0.25]);
  });

  it('a unary op with an attribute, read once per node by its reference', () => {
    const n = node('ScaledCube', 1, { scale: Attribute.float('scale', 2) });
    const [y] = unaryKernel((x) => x * x * x)(n, [f32([3], [1, -2, 0.5])], 18)!;
    expect([...(y!.toArray() as Float32Array)]).toEqual([1, -8, 0.125]);
    let reads = 0;
    const ref = unaryReference((node) => {
      reads++;
      const s = node.getFloat('scale', 1);
      return (x) => s * x * x * x;
    });
    const [r] = ref(n, [refFromTensor(f32([3], [1, -2, 0.5]))], 18);
    expect([...(r!.data as Float64Array)]).toEqual([2, -16, 0.25]);
    expect(reads).toBe(1);
  });

  it('a reduce op from its reducer: axes, keepdims, its int form and an empty reduction', () => {
    // ReduceMaxAbs: max |v|, 0 over nothing; floats only.
    const maxAbs = (a: number, v: number): number => Math.max(a, Math.abs(v));
    const kernel = reduceKernel({ float: { init: 0, step: maxAbs }, empty: true }, 18);
    const n = node('ReduceMaxAbs', 2, { keepdims: Attribute.int('keepdims', 0) });
    const axes = Tensor.fromNumbers(DataType.INT64, [1], [1n]);
    const [y] = kernel(n, [f32([2, 3], [1, -5, 2, 0, 0.5, -0.25]), axes], 18)!;
    expect(y!.dims).toEqual([2]);
    expect([...(y!.toArray() as Float32Array)]).toEqual([5, 0.5]);
    const [e] = kernel(n, [f32([2, 0], []), axes], 18)!;
    expect([...(e!.toArray() as Float32Array)]).toEqual([0, 0]);
    const ints = Tensor.fromNumbers(DataType.INT64, [2, 2], [-7n, 3n, 2n, -1n]);
    expect(kernel(n, [ints, axes], 18)).toBeUndefined();
    // With an integer form (a maximum), int64 is folded too; no empty value declared: not computed.
    const peak = reduceKernel({ float: { init: -Infinity, step: (a, v) => (v > a ? v : a) }, int: { combine: 'max' }, empty: false }, 18);
    expect([...(peak(n, [ints, axes], 18)![0]!.toArray() as BigInt64Array)]).toEqual([3n, 2n]);
    expect(peak(n, [f32([2, 0], []), axes], 18)).toBeUndefined();
    const ref = reduceReference({ init: 0, step: maxAbs, finish: (a) => a }, 18);
    const [r] = ref(n, [refFromTensor(f32([2, 3], [1, -5, 2, 0, 0.5, -0.25])), refFromTensor(axes)], 18);
    expect(r!.dims).toEqual([2]);
    expect([...(r!.data as Float64Array)]).toEqual([5, 0.5]);
  });
});
