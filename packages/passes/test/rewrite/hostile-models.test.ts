/**
 * The rewrite passes on hostile models (the fuzzer's findings, issue 7): a pass declines what it
 * cannot rewrite, with a reason, and never fails with a TypeError, a GraphError from an attribute
 * read, a hang or an allocation it should have refused.
 *
 * - fuzz/regressions/optimize-exception-*.onnx: op types `constructor`/`hasOwnProperty` (plain
 *   object lookups), BigInt(undefined), fold-constants on a Size with extra outputs,
 *   fuse-consecutive-transposes on a Transpose without input;
 * - fuzz/regressions/optimize-hang-conv-group.onnx: conv-to-depthwise with group ≤ 0;
 * - fuzz/regressions/optimize-memory-fold-constants.onnx: a fold over budget built first;
 * - attributes of the wrong type in every pass that reads attributes (`bad-attribute`);
 * - eliminate-duplicate-initializers: reads only tensors that could have a twin, each at most
 *   once per Tensor, and declines the ones it cannot read.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Attribute, DataType, GraphBuilder, Tensor, verifyErrors, type Model, type TensorSource } from '@onnxkit/graph';
import { ImportError, decode, load, save } from '@onnxkit/importer';
import { PRESETS, PassError, getPass, resolvePipeline, runPipeline, standaloneContext, type PassResult } from '@onnxkit/passes';
import { ROOT, runIsolated } from '../isolated.js';
import { opTypes, runPass } from './helpers.js';

const REGRESSIONS = join(ROOT, 'fuzz', 'regressions');
const MiB = 2 ** 20;
const readRegression = (file: string): Model => decode(readFileSync(join(REGRESSIONS, file)));
const ones = (n: number): number[] => new Array<number>(n).fill(1);

function peakRss(): number {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
}

describe('fuzz regressions replay through the default pipeline', () => {
  it.each([
    ['optimize-exception-4efa67c1bc.onnx', 'an op type named constructor'],
    ['optimize-exception-f091036918.onnx', 'an op type named after an Object.prototype method (BigInt(undefined))'],
    ['optimize-exception-4a6c576d79.onnx', 'a Size node with extra outputs in use'],
    ['optimize-exception-e7af70341b.onnx', 'a Transpose whose input was cut'],
  ])('%s (%s) returns a valid model', async (file) => {
    const m = readRegression(file);
    const report = await runPipeline(m, 'default');
    expect(verifyErrors(m)).toEqual([]);
    expect(report.converged).toBe(true);
  });

  it('the Size with a used second output is declined (no-kernel), not folded from a missing tensor', async () => {
    const m = readRegression('optimize-exception-4a6c576d79.onnx');
    const report = await runPipeline(m, 'default');
    const fold = report.summary.find((s) => s.pass === 'fold-constants')!;
    expect(fold.rejected['no-kernel']).toBeGreaterThan(0);
    expect(opTypes(m)).toContain('Size');
  });

  it('the 256 MiB ConstantOfShape is declined over budget without being built', async () => {
    const m = readRegression('optimize-memory-fold-constants.onnx');
    writeClearRefs();
    const before = peakRss();
    const report = await runPipeline(m, 'default');
    const growth = peakRss() - before;
    const fold = report.runs.find((r) => r.pass === 'fold-constants')!.result;
    expect(fold.rejected['budget-exceeded']).toBe(1);
    expect(fold.declined.find((d) => d.reason === 'budget-exceeded')!.detail).toContain(String(256 * MiB));
    expect(growth).toBeLessThan(64 * MiB);
  });
});

/** Resets the kernel's peak-RSS mark to the current RSS (Linux), as the fuzzer's memory probe does. */
function writeClearRefs(): void {
  writeFileSync('/proc/self/clear_refs', '5');
}

describe('loops bounded by attributes (conv-to-depthwise / decouple-conv group ≤ 0 used to loop forever)', () => {
  it('the regression file and group = -1, 0 in both modes are declined bad-attribute', () => {
    const { result } = runIsolated(`
      import { DataType, GraphBuilder } from '@onnxkit/graph';
      import { decode } from '@onnxkit/importer';
      import { getPass, runPipeline, standaloneContext } from '@onnxkit/passes';
      import { readFileSync } from 'node:fs';
      const out = {};
      const m = decode(readFileSync('fuzz/regressions/optimize-hang-conv-group.onnx'));
      const rep = await runPipeline(m, 'default');
      out.regression = rep.summary.find((s) => s.pass === 'conv-to-depthwise').rejected;
      for (const group of [-1, 0]) {
        for (const [pass, options] of [['conv-to-depthwise', {}], ['decouple-conv', { rank: 1 }]]) {
          const b = new GraphBuilder({ opset: 17 });
          const x = b.input('x', DataType.FLOAT, [1, 4, 5, 5]);
          b.output(b.op('Conv', [x, b.floats('w', [4, 1, 3, 3], new Array(36).fill(0.5))], { group }, { name: 'conv' }), 'y');
          const r = await getPass(pass).run(b.build(), standaloneContext(options));
          out[group + ':' + (pass === 'decouple-conv' ? 'decouple' : 'exact')] = r.declined.map((d) => d.reason + ' ' + d.detail);
        }
      }
      console.log(JSON.stringify(out));
    `);
    const out = result as Record<string, unknown>;
    expect(out['regression']).toEqual({ 'bad-attribute': 1 });
    for (const key of ['-1:exact', '-1:decouple', '0:exact', '0:decouple']) {
      const group = key.split(':')[0];
      expect(out[key], key).toEqual([`bad-attribute conv: attribute 'group' is ${group}; it must be at least 1`]);
    }
  });

  it('a group that does not divide the output channels is declined, not regrouped', async () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [1, 6, 5, 5]);
    b.output(b.op('Conv', [x, b.floats('w', [4, 2, 3, 3], ones(72))], { group: 3 }, { name: 'conv' }), 'y');
    const r = await runPass('conv-to-depthwise', b.build());
    expect(r.rejected).toEqual({ 'bad-attribute': 1 });
  });
});

describe('op types named after Object.prototype members', () => {
  it('pass through every pass of the default pipeline untouched (no TypeError)', async () => {
    const b = new GraphBuilder({ opset: 17 });
    let v = b.input('x', DataType.FLOAT, [2, 3]);
    for (const op of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf']) {
      v = b.op(op, [v, b.floats(`c_${op}`, [1], [0])], {}, { name: `n_${op}` });
    }
    b.output(v, 'y');
    const m = b.build();
    await runPipeline(m, 'default');
    expect(verifyErrors(m)).toEqual([]);
    expect(opTypes(m)).toEqual(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf']);
  });

  it('are not passes or presets', () => {
    for (const name of ['constructor', 'toString', '__proto__']) {
      expect(() => getPass(name), name).toThrow(PassError);
      expect(() => resolvePipeline([name]), name).toThrow(/unknown pass/);
      expect(PRESETS[name], name).toBeUndefined();
    }
  });
});

describe('attributes of the wrong type: every pass declines bad-attribute', () => {
  const conv = (b: GraphBuilder, x = b.input('x', DataType.FLOAT, [1, 2, 6, 6]), attrs: Record<string, Attribute | number | number[]> = {}, name = 'conv') =>
    b.op('Conv', [x, b.floats('w', [2, 2, 3, 3], ones(36)), b.floats('bias', [2], [0.5, 0.25])], attrs, { name });

  const cases: [pass: string, build: () => Model, culprit: string, message: RegExp][] = [
    [
      'eliminate-identity',
      () => {
        const b = new GraphBuilder({ opset: 17 });
        b.output(b.op('Flatten', [b.op('Relu', [b.input('x', DataType.FLOAT, [2, 3])])], { axis: Attribute.string('axis', '1') }, { name: 'flatten' }), 'y');
        return b.build();
      },
      'flatten',
      /attribute 'axis' is STRING, not INT/,
    ],
    [
      'fold-constants',
      () => {
        const b = new GraphBuilder({ opset: 17 });
        const c = b.op('Concat', [b.floats('a', [2], [1, 2]), b.floats('b', [2], [3, 4])], { axis: Attribute.float('axis', 0) }, { name: 'concat' });
        b.output(b.op('Add', [b.input('x', DataType.FLOAT, [4]), c]), 'y');
        return b.build();
      },
      'concat',
      /attribute 'axis' is FLOAT, not INT/,
    ],
    [
      'fold-batchnorm',
      () => {
        const b = new GraphBuilder({ opset: 17 });
        const y = conv(b);
        const p = (n: string, v: number[]) => b.floats(n, [2], v);
        b.output(b.op('BatchNormalization', [y, p('g', [1, 2]), p('be', [0, 1]), p('mu', [0, 0]), p('va', [1, 1])], { epsilon: Attribute.string('epsilon', '1e-5') }, { name: 'bn' }), 'out');
        return b.build();
      },
      'bn',
      /attribute 'epsilon' is STRING, not FLOAT/,
    ],
    [
      'fuse-bias-into-conv',
      () => {
        const b = new GraphBuilder({ opset: 17 });
        const y = conv(b, undefined, { dilations: Attribute.strings('dilations', ['1', '1']) });
        b.output(b.op('Add', [y, b.floats('shift', [2, 1, 1], [1, 2])], {}, { name: 'add' }), 'out');
        return b.build();
      },
      'conv',
      /attribute 'dilations' is STRINGS, not INTS/,
    ],
    [
      'fuse-pad-into-conv',
      () => {
        const b = new GraphBuilder({ opset: 17 });
        const p = b.op('Pad', [b.input('x', DataType.FLOAT, [1, 2, 4, 4]), b.int64s('pads', [0, 0, 1, 1, 0, 0, 1, 1])], {}, { name: 'pad' });
        b.output(conv(b, p, { strides: Attribute.floats('strides', [1, 1]) }), 'out');
        return b.build();
      },
      'conv',
      /attribute 'strides' is FLOATS, not INTS/,
    ],
    [
      'fuse-consecutive-transposes',
      () => {
        const b = new GraphBuilder({ opset: 17 });
        const t1 = b.op('Transpose', [b.input('x', DataType.FLOAT, [2, 3, 4])], { perm: [2, 2, 0] }, { name: 't1' });
        b.output(b.op('Transpose', [t1], { perm: [1, 0, 2] }, { name: 't2' }), 'y');
        return b.build();
      },
      't1',
      /attribute 'perm' \[2,2,0\] is not a permutation of 3 axes/,
    ],
    [
      'fuse-consecutive-reshapes',
      () => {
        const b = new GraphBuilder({ opset: 17 });
        const r1 = b.op('Reshape', [b.input('x', DataType.FLOAT, [2, 3, 4]), b.int64s('s1', [6, 4])], { allowzero: Attribute.float('allowzero', 0) }, { name: 'r1' });
        b.output(b.op('Reshape', [r1, b.int64s('s2', [24])], {}, { name: 'r2' }), 'y');
        return b.build();
      },
      'r1',
      /attribute 'allowzero' is FLOAT, not INT/,
    ],
    [
      'fuse-consecutive-squeeze-unsqueeze',
      () => {
        const b = new GraphBuilder({ opset: 11 });
        const u1 = b.op('Unsqueeze', [b.input('x', DataType.FLOAT, [3])], { axes: Attribute.floats('axes', [0]) }, { name: 'u1' });
        b.output(b.op('Unsqueeze', [u1], { axes: [0] }, { name: 'u2' }), 'y');
        return b.build();
      },
      'u1',
      /attribute 'axes' is FLOATS, not INTS/,
    ],
    [
      'conv-to-depthwise',
      () => {
        const b = new GraphBuilder({ opset: 17 });
        b.output(conv(b, undefined, { group: Attribute.float('group', 1) }), 'out');
        return b.build();
      },
      'conv',
      /attribute 'group' is FLOAT, not INT/,
    ],
  ];

  for (const [pass, build, culprit, message] of cases) {
    it(`${pass}: ${message.source.replace(/\\/g, '')}`, async () => {
      const m = build();
      const before = opTypes(m);
      const r = await runPass(pass, m);
      expect(r.changes).toBe(0);
      expect(r.rejected['bad-attribute'], JSON.stringify(r.declined)).toBeGreaterThan(0);
      const d = r.declined.find((x) => x.reason === 'bad-attribute')!;
      expect(d.detail).toMatch(message);
      expect(d.detail.startsWith(`${culprit}: `), d.detail).toBe(true);
      expect(opTypes(m)).toEqual(before);
    });
  }

  it('the whole default pipeline on all of them at once returns a valid model', async () => {
    for (const [, build] of cases) {
      const m = build();
      await runPipeline(m, 'default');
      expect(verifyErrors(m)).toEqual([]);
    }
  });
});

describe('malformed structure the passes used to trip over', () => {
  it('fuse-consecutive-transposes: a first Transpose without input is declined missing-input', async () => {
    const b = new GraphBuilder({ opset: 17 });
    const t1 = b.op('Transpose', [b.input('x', DataType.FLOAT, [2, 3])], { perm: [1, 0] }, { name: 't1' });
    b.output(b.op('Transpose', [t1], { perm: [1, 0] }, { name: 't2' }), 'y');
    const m = b.build();
    m.graph.nodes[0]!.setInputs([]);
    const r = await runPass('fuse-consecutive-transposes', m);
    expect(r.declined.map((d) => [d.reason, d.detail])).toEqual([['missing-input', 't1 has no input']]);
  });

  it('fold-constants: Size and Constant nodes given a second, used output are declined, not folded', async () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2, 3]);
    const [sz, extra] = b.opN('Size', [x], 2, {}, { name: 'size2' });
    const [k, kExtra] = b.opN('Constant', [], 2, { value: Tensor.scalar(DataType.INT64, 4) }, { name: 'const2' });
    b.output(b.op('Add', [sz!, extra!]), 'a');
    b.output(b.op('Add', [k!, kExtra!]), 'b');
    const m = b.build();
    const r = await runPass('fold-constants', m);
    expect(r.declined.filter((d) => d.reason === 'no-kernel').map((d) => d.node).sort()).toEqual(['const2', 'size2']);
    expect(opTypes(m)).toContain('Size');
  });

  it('shapes, pads and axes held in float or string tensors are declined, never truncated or thrown on', async () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2, 3]);
    const r1 = b.op('Reshape', [x, b.constant('fshape', Tensor.fromNumbers(DataType.FLOAT, [2], [3, 2]))], {}, { name: 'r1' });
    const r2 = b.op('Reshape', [r1, b.int64s('s2', [6])], {}, { name: 'r2' });
    const pd = b.op('Pad', [b.op('Relu', [x]), b.constant('spads', Tensor.fromStrings([4], ['0', '0', '0', '0']))], {}, { name: 'pad' });
    const dr = b.op('Dropout', [b.op('Relu', [x]), null, b.constant('stm', Tensor.fromStrings([], ['no']))], {}, { name: 'drop' });
    b.output(r2, 'y1');
    b.output(pd, 'y2');
    b.output(dr, 'y3');
    const m = b.build();
    const ident = await runPass('eliminate-identity', m);
    expect(ident.declined.map((d) => `${d.node}:${d.reason}`).sort()).toEqual(['drop:training-mode-not-constant', 'pad:not-integer-constant', 'r1:not-integer-constant']);
    const fuse = await runPass('fuse-consecutive-reshapes', m);
    expect(fuse.rejected).toEqual({ 'shape-not-constant': 1 });
  });
});

describe('fold-constants checks its budget before evaluating', () => {
  function hugeFill(dims: number[]): Model {
    const b = new GraphBuilder({ opset: 17 });
    const c = b.op('ConstantOfShape', [b.int64s('shape', dims)], { value: Tensor.fromNumbers(DataType.FLOAT, [1], [1]) }, { name: 'huge_fill' });
    b.output(b.op('Mul', [c, b.input('x', DataType.FLOAT, [1])]), 'y');
    return b.build();
  }

  it('a 4 GiB ConstantOfShape is declined budget-exceeded, naming the node and the size, without allocating', async () => {
    const m = hugeFill([32768, 32768]);
    const before = process.memoryUsage().arrayBuffers;
    const r = await runPass('fold-constants', m);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * MiB);
    expect(r.declined).toEqual([{ pass: 'fold-constants', node: 'huge_fill', opType: 'ConstantOfShape', reason: 'budget-exceeded', detail: `'huge_fill_output_0' would be ${4 * 2 ** 30} bytes (max ${16 * MiB})` }]);
  });

  it('the evaluator (onnxruntime in production) is never asked for an over-budget tensor', async () => {
    let calls = 0;
    const evaluator = {
      evaluate: async () => {
        calls++;
        return new Map();
      },
    };
    const r = await getPass('fold-constants').run(hugeFill([32768, 32768]), standaloneContext({ kernels: false }, { evaluator }));
    expect(calls).toBe(0);
    expect(r.rejected).toEqual({ 'budget-exceeded': 1 });
  });

  it('when shape inference cannot size the output, the kernels refuse it before allocating (4 TiB)', async () => {
    // Pinning a shape for an input that does not exist makes shape inference fail as a whole: the
    // pass then sees no inferred shapes, and only evaluateNode's byte limit stands in the way.
    const ctx = standaloneContext({}, { inputShapes: { no_such_input: [1] } });
    const r: PassResult = await getPass('fold-constants').run(hugeFill([2 ** 20, 2 ** 20]), ctx);
    expect(r.metrics['shapeInference']).toMatch(/shape inference failed/);
    expect(r.declined.map((d) => [d.node, d.reason, d.detail])).toEqual([['huge_fill', 'budget-exceeded', `huge_fill would allocate ${2 ** 42} bytes (max ${16 * MiB})`]]);
  });
});

describe('eliminate-duplicate-initializers reads little and survives unreadable tensors', () => {
  /** A lazy float32 tensor whose reads are counted (and which can be made to fail). */
  function lazy(name: string, dims: number[], fill: number, reads: Map<string, number>, fail?: () => Error): Tensor {
    const n = dims.reduce((a, d) => a * d, 1);
    const source: TensorSource = {
      byteLength: n * 4,
      description: `${name}.bin`,
      read: () => {
        reads.set(name, (reads.get(name) ?? 0) + 1);
        if (fail) throw fail();
        return new Uint8Array(new Float32Array(n).fill(fill).buffer);
      },
    };
    return Tensor.lazy(DataType.FLOAT, dims, source, { name });
  }

  function model(reads: Map<string, number>, fail?: () => Error): Model {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [8]);
    let v = x;
    const add = (name: string, t: Tensor) => {
      v = b.op('Add', [v, b.constant(name, t)], {}, { name: `add_${name}` });
    };
    add('alone_a', lazy('alone_a', [8], 1, reads));
    add('alone_b', lazy('alone_b', [1, 8], 1, reads));
    add('twin_1', lazy('twin_1', [2, 4], 3, reads));
    add('twin_2', lazy('twin_2', [2, 4], 3, reads));
    add('sibling', lazy('sibling', [2, 4], 5, reads));
    add('broken', lazy('broken', [2, 4], 3, reads, fail));
    b.output(v, 'y');
    return b.build();
  }

  it('merges small in-memory tensors only when every byte agrees, not just their ends', async () => {
    // Equal first and last 16 bytes (what the cheap sample of a small tensor reads), different middles.
    const data = (mid: number) => Float32Array.from({ length: 32 }, (_, i) => (i >= 8 && i < 24 ? mid : i));
    const b = new GraphBuilder({ opset: 17 });
    let v = b.input('x', DataType.FLOAT, [32]);
    for (const [name, mid] of [['p', 1], ['q', 2], ['r', 1]] as const) v = b.op('Add', [v, b.constant(name, Tensor.fromArray(DataType.FLOAT, [32], data(mid)))]);
    b.output(v, 'y');
    const m = b.build();
    const r = await runPass('eliminate-duplicate-initializers', m);
    expect(r.changes).toBe(1);
    expect([...m.graph.initializers.keys()].sort()).toEqual(['p', 'q']);
  });

  it('never reads a tensor alone in its dtype/dims/size group, and reads each candidate once however many runs', async () => {
    const reads = new Map<string, number>();
    const m = model(reads);
    const first = await runPass('eliminate-duplicate-initializers', m);
    expect(first.changes).toBe(2);
    expect(reads.get('alone_a')).toBeUndefined();
    expect(reads.get('alone_b')).toBeUndefined();
    // Hashing reads each candidate once; the byte-for-byte confirmation reads the duplicates again.
    expect(reads.get('sibling')).toBe(1);
    const afterFirst = new Map(reads);
    const second = await runPass('eliminate-duplicate-initializers', m);
    const third = await runPass('eliminate-duplicate-initializers', m);
    expect(second.changes + third.changes).toBe(0);
    expect(reads).toEqual(afterFirst);
    expect([...m.graph.initializers.keys()].sort()).toEqual(['alone_a', 'alone_b', 'sibling', 'twin_1']);
  });

  it('declines a tensor whose source throws (e.g. an ImportError over maxTensorBytes) and merges the rest', async () => {
    const reads = new Map<string, number>();
    const tooLarge = () => new ImportError('IMPORT_TOO_LARGE', "tensor 'broken' is 32 bytes, over maxTensorBytes (16)");
    const m = model(reads, tooLarge);
    const r = await runPass('eliminate-duplicate-initializers', m);
    expect(r.rejected['unreadable-tensor']).toBe(1);
    expect(r.declined.find((d) => d.reason === 'unreadable-tensor')!.detail).toBe("initializer 'broken': tensor 'broken' is 32 bytes, over maxTensorBytes (16)");
    expect(r.changes).toBe(1);
    expect(m.graph.initializers.has('broken')).toBe(true);
    await runPass('eliminate-duplicate-initializers', m);
    // The failure is remembered with the tensor: no retry of a read that cannot succeed.
    expect(reads.get('broken')).toBe(1);
  });

  it('samples large lazy tensors by positional reads: distinct weights cost 3 KiB each, not their size', async () => {
    const n = 64 * 1024; // 256 KiB per tensor
    const bytesRead = new Map<string, number>();
    const data = (name: string, seed: number, poke?: number): Tensor => {
      const values = Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i));
      if (poke !== undefined) values[poke] = 42; // outside every sampled window
      const bytes = new Uint8Array(values.buffer);
      const count = (k: number) => bytesRead.set(name, (bytesRead.get(name) ?? 0) + k);
      const source: TensorSource = {
        byteLength: bytes.byteLength,
        description: `${name}.bin`,
        read: () => (count(bytes.byteLength), bytes.slice()),
        readInto: (target, offset, length) => (count(length), target.set(bytes.subarray(offset, offset + length))),
      };
      return Tensor.lazy(DataType.FLOAT, [256, 256], source, { name });
    };
    const b = new GraphBuilder({ opset: 17 });
    let v = b.input('x', DataType.FLOAT, [1, 256]);
    const tensors = [data('d1', 1), data('d2', 2), data('d3', 3), data('same_a', 7), data('same_b', 7), data('near_a', 9), data('near_b', 9, 1000)];
    for (const t of tensors) v = b.op('MatMul', [v, b.constant(t.name, t)], {}, { name: `mm_${t.name}` });
    b.output(v, 'y');
    const m = b.build();
    const r = await runPass('eliminate-duplicate-initializers', m);
    expect(r.changes).toBe(1);
    expect([...m.graph.initializers.keys()].sort()).toEqual(['d1', 'd2', 'd3', 'near_a', 'near_b', 'same_a']);
    // Distinct weights: three 1 KiB windows each, nothing more.
    for (const name of ['d1', 'd2', 'd3']) expect(bytesRead.get(name)).toBe(3 * 1024);
    // Equal samples (the difference lies outside every window) are settled by the full content.
    for (const name of ['same_a', 'same_b', 'near_a', 'near_b']) expect(bytesRead.get(name)!).toBeGreaterThan(n * 4);
  });

  describe('with the real importer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnxkit-dedup-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('external weights over maxTensorBytes are declined unreadable-tensor; without the cap they merge', async () => {
      const b = new GraphBuilder({ opset: 17 });
      let v = b.input('x', DataType.FLOAT, [64, 64]);
      for (const name of ['w1', 'w2', 'w3']) v = b.op('MatMul', [v, b.floats(name, [64, 64], ones(4096))], {}, { name: `mm_${name}` });
      b.output(v, 'y');
      const path = join(dir, 'model.onnx');
      save(b.build(), path, { externalData: { sizeThreshold: 0 } });

      const capped = load(path, { maxTensorBytes: 1024 });
      const r = await runPass('eliminate-duplicate-initializers', capped);
      expect(r.changes).toBe(0);
      expect(r.rejected['unreadable-tensor']).toBe(3);
      expect(r.declined[0]!.detail).toMatch(/^initializer 'w1': .*maxTensorBytes \(1024\)/);

      const full = load(path);
      const ok = await runPass('eliminate-duplicate-initializers', full);
      expect(ok.changes).toBe(2);
      expect([...full.graph.initializers.keys()]).toEqual(['w1']);
    });
  });
});
