/**
 * analyzeModel on hostile models (the fuzzer's findings, issue 7): whatever the file says, the
 * analysis returns a report — the problem becomes a diagnostic naming the value or node, and
 * what cannot be known is null with a reason — and it never hangs.
 *
 * - element types ONNX does not define (fuzz/regressions/analyze-exception-*.onnx: RangeErrors
 *   from four call sites);
 * - ranks driven by a declared dim (fuzz/regressions/analyze-hang-30391236b1.onnx: a
 *   ConstantOfShape whose shape input is declared int64[2^31]) and the other ways a dim could
 *   become a loop bound (Reshape/Expand targets, partial values, symbolic polynomials);
 * - attributes of the wrong type (GraphError escaping analyzeModel);
 * - op types that name Object.prototype members.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Attribute, AttributeType, DataType, GraphBuilder, type Model } from '@onnxkit/graph';
import { decode } from '@onnxkit/importer';
import { analyzeModel, inferShapes } from '@onnxkit/passes';
import { ROOT, runIsolated } from '../isolated.js';

const REGRESSIONS = join(ROOT, 'fuzz', 'regressions');

function analyzeOk(m: Model): ReturnType<typeof analyzeModel> {
  const r = analyzeModel(m);
  expect(() => JSON.stringify(r)).not.toThrow();
  return r;
}

describe('element types ONNX does not define', () => {
  it.each([
    ['analyze-exception-46807c5735.onnx', -2],
    ['analyze-exception-7a147b0a6c.onnx', 255],
    ['analyze-exception-cbbe8dc555.onnx', -1],
    ['analyze-exception-f107fbd1e7.onnx', 2147483647],
  ])('%s (elem_type %i): a report with an unknown-dtype diagnostic', (file, code) => {
    const m = decode(readFileSync(join(REGRESSIONS, file)));
    const r = analyzeOk(m);
    const d = r.diagnostics.filter((x) => x.code === 'unknown-dtype');
    expect(d.length, JSON.stringify(r.diagnostics)).toBeGreaterThan(0);
    expect(d.some((x) => x.message.includes(`unknown(${code})`)), JSON.stringify(d)).toBe(true);
  });

  it('names the value and node, reports bytes as null with the reason, and keeps analysing the rest', () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', 255 as DataType, [2, 3]);
    const r1 = b.op('Relu', [x], {}, { name: 'relu1' });
    // value_info of an intermediate with an undefined type (the #finish call site).
    r1.type = { kind: 'tensor', elemType: 2147483647 as DataType, shape: [2, 3] };
    const r2 = b.op('Relu', [r1], {}, { name: 'relu2' });
    const w = b.floats('w', [3, 4], new Array(12).fill(0.5));
    b.output(b.op('MatMul', [r2, w], {}, { name: 'mm' }), 'y');
    const r = analyzeOk(b.build());

    expect(r.model.inputs[0]).toEqual({ name: 'x', dtype: 'unknown(255)', shape: [2, 3] });
    const dx = r.diagnostics.find((d) => d.code === 'unknown-dtype' && d.message.includes("'x'"));
    expect(dx?.message).toMatch(/'x' is declared with element type unknown\(255\), which ONNX does not define/);
    const d1 = r.diagnostics.find((d) => d.code === 'unknown-dtype' && d.message.includes(`'${r1.name}'`));
    expect(d1?.node).toBe('relu1');

    const relu1 = r.layers.find((l) => l.name === 'relu1')!;
    expect(relu1.bytes.input).toBeNull();
    expect(relu1.latency).toBeNull();
    expect(relu1.unknown).toContain("latency: bytes unknown (element type of 'x' (unknown(255)) is not an ONNX data type)");
    // Unknown is never silently zero: liveness counts the value as unknown and says so.
    expect(r.totals.peakMemoryUnknownValues).toBeGreaterThan(0);
    expect(r.diagnostics.some((d) => d.code === 'unknown-activation-size')).toBe(true);
    // The rest is still analysed: MatMul 2·3·4 MACs.
    expect(r.layers.find((l) => l.name === 'mm')!.macs).toBe(24);
  });

  it('a Cast to an undefined type is a malformed node, not an unknown dtype downstream', () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [4]);
    b.output(b.op('Relu', [b.op('Cast', [x], { to: 99 }, { name: 'cast' })], {}, { name: 'relu' }), 'y');
    const r = analyzeOk(b.build());
    const d = r.diagnostics.find((x) => x.code === 'bad-attribute');
    expect(d?.node).toBe('cast');
    expect(d?.message).toContain("attribute 'to' is 99, which is not an ONNX data type");
    expect(r.layers[0]!.unknown).toContain("bad-attribute: attribute 'to' is 99, which is not an ONNX data type");
  });
});

describe('ranks and loop bounds driven by declared dims never hang', () => {
  it('ConstantOfShape/Reshape/Expand of a shape input declared int64[2^31], a sliced partial of length 2^31 and a product of 40 binomials', () => {
    const { result } = runIsolated(`
      import { DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
      import { decode } from '@onnxkit/importer';
      import { analyzeModel } from '@onnxkit/passes';
      import { readFileSync } from 'node:fs';
      const out = {};
      const run = (name, m) => {
        const r = analyzeModel(m);
        JSON.stringify(r);
        out[name] = { codes: [...new Set(r.diagnostics.map((d) => d.code))], shapes: Object.fromEntries(r.layers.map((l) => [l.name, l.outputShape])) };
      };
      run('regression', decode(readFileSync('fuzz/regressions/analyze-hang-30391236b1.onnx')));
      {
        const b = new GraphBuilder({ opset: 17 });
        const s = b.input('s', DataType.INT64, [2147483648]);
        const x = b.input('x', DataType.FLOAT, [2, 3]);
        b.output(b.op('ConstantOfShape', [s], {}, { name: 'cos' }), 'a');
        b.output(b.op('Reshape', [x, s], {}, { name: 'reshape' }), 'b');
        b.output(b.op('Expand', [x, s], {}, { name: 'expand' }), 'c');
        run('declared', b.build());
      }
      {
        const b = new GraphBuilder({ opset: 17 });
        const x = b.input('x', DataType.FLOAT, [2, 3]);
        const shp = b.op('Shape', [x], {}, { name: 'shape' });
        const r = b.op('Reshape', [shp, b.int64s('target', [2147483648])], {}, { name: 'stretch' });
        b.output(b.op('Slice', [r, b.int64s('st', [0]), b.int64s('en', [9223372036854775807n])], {}, { name: 'slice' }), 'y');
        run('partial', b.build());
      }
      {
        const b = new GraphBuilder({ opset: 17 });
        const dims = Array.from({ length: 40 }, (_, i) => 'd' + i);
        const x = b.input('x', DataType.FLOAT, dims);
        const p = b.op('Pad', [x, b.int64s('pads', new Array(80).fill(1))], {}, { name: 'pad' });
        b.output(b.op('Flatten', [p], { axis: 0 }, { name: 'flatten' }), 'y');
        run('polynomial', b.build());
      }
      console.log(JSON.stringify(out));
    `);
    const out = result as Record<string, { codes: string[]; shapes: Record<string, unknown> }>;
    expect(out['regression']!.codes).toContain('rank-limit');
    expect(out['declared']!.codes).toContain('rank-limit');
    expect(out['declared']!.shapes).toEqual({ cos: null, reshape: null, expand: null });
    // The Slice of a 2-element partial "stretched" to 2^31 finishes; its content is not invented.
    expect(out['partial']!.shapes['slice']).toEqual([2147483648]);
    // Each padded dim is d_i+2; the product of 40 such sums is not expanded (2^40 terms): unknown.
    expect((out['polynomial']!.shapes['pad'] as string[])[0]).toBe('d0+2');
    expect(out['polynomial']!.shapes['flatten']).toEqual([1, null]);
  });

  it('a declared rank above the limit is an unknown shape with a diagnostic', () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, new Array(65).fill(1));
    b.output(b.op('Relu', [x], {}, { name: 'relu' }), 'y');
    const inf = inferShapes(b.build());
    expect(inf.diagnostics.find((d) => d.code === 'rank-limit')?.message).toBe("'x' is declared with rank 65, above the limit of 64; its shape is treated as unknown");
    expect(inf.shapeOf(x)).toBeNull();
  });
});

describe('attributes of the wrong type make a node malformed, never a thrown GraphError', () => {
  function model(): Model {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2, 4]);
    const c = b.op('Concat', [x, x], { axis: Attribute.float('axis', 1) }, { name: 'concat_float_axis' });
    const g = b.op('Gather', [x, b.int64s('idx', [0])], { axis: new Attribute('axis', AttributeType.STRING, '0') }, { name: 'gather_string_axis' });
    const sm = b.op('Softmax', [x], { axis: Attribute.strings('axis', ['1']) }, { name: 'softmax_strings_axis' });
    // Gemm's cost reads transA: a FLOAT there used to escape from the cost table.
    const gm = b.op('Gemm', [x, b.floats('w', [4, 3], new Array(12).fill(1))], { transA: Attribute.float('transA', 0) }, { name: 'gemm_float_transA' });
    const bn = b.op(
      'BatchNormalization',
      [b.op('Unsqueeze', [x, b.int64s('ax', [2])]), b.floats('sc', [4], [1, 1, 1, 1]), b.floats('bi', [4], [0, 0, 0, 0]), b.floats('mu', [4], [0, 0, 0, 0]), b.floats('va', [4], [1, 1, 1, 1])],
      { training_mode: Attribute.string('training_mode', 'no') },
      { name: 'bn_string_training_mode' },
    );
    // A Constant whose value is not a tensor, traced as a MatMul weight.
    const k = b.op('Constant', [], { value: Attribute.strings('value', ['a']) }, { name: 'constant_strings_value' });
    const mm = b.op('MatMul', [x, k], {}, { name: 'matmul_of_bad_constant' });
    const conv = b.op('Conv', [b.input('img', DataType.FLOAT, [1, 2, 5, 5]), b.floats('cw', [2, 1, 3, 3], new Array(18).fill(1))], { group: 0 }, { name: 'conv_group_0' });
    for (const [v, n] of [[c, 'c'], [g, 'g'], [sm, 'sm'], [gm, 'gm'], [bn, 'bn'], [mm, 'mm'], [conv, 'conv']] as const) b.output(v, n);
    b.output(b.op('Relu', [x], {}, { name: 'healthy' }), 'ok');
    return b.build();
  }

  it('each malformed node gets a bad-attribute diagnostic and an unknown cost; the others are analysed', () => {
    const r = analyzeOk(model());
    const bad = new Map(r.diagnostics.filter((d) => d.code === 'bad-attribute').map((d) => [d.node, d.message]));
    expect(bad.get('concat_float_axis')).toContain("attribute 'axis' is FLOAT, not INT");
    expect(bad.get('gather_string_axis')).toContain("attribute 'axis' is STRING, not INT");
    expect(bad.get('softmax_strings_axis')).toContain("attribute 'axis' is STRINGS, not INT");
    expect(bad.get('gemm_float_transA')).toContain("attribute 'transA' is FLOAT, not INT");
    expect(bad.get('bn_string_training_mode')).toContain("attribute 'training_mode' is STRING, not INT");
    expect(bad.get('constant_strings_value')).toContain("attribute 'value' is STRINGS, not TENSOR");
    expect(bad.get('conv_group_0')).toContain("attribute 'group' is 0; it must be at least 1");
    for (const name of bad.keys()) {
      const layer = r.layers.find((l) => l.name === name)!;
      expect(layer.macs, name).toBeNull();
      expect(layer.unknown?.some((u) => u.startsWith('bad-attribute: ')), name).toBe(true);
    }
    const ok = r.layers.find((l) => l.name === 'healthy')!;
    expect(ok.flops).toBe(8);
    expect(ok.outputShape).toEqual([2, 4]);
  });
});

describe('op types named after Object.prototype members', () => {
  it('are unknown ops with no cost model, like any other unknown op', () => {
    const ops = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];
    const b = new GraphBuilder({ opset: 17 });
    let v = b.input('x', DataType.FLOAT, [3]);
    for (const op of ops) v = b.op(op, [v], {}, { name: `n_${op}` });
    b.output(v, 'y');
    const r = analyzeOk(b.build());
    for (const op of ops) {
      expect(r.diagnostics.some((d) => d.code === 'unknown-op' && d.node === `n_${op}`), op).toBe(true);
      expect(r.layers.find((l) => l.name === `n_${op}`)!.unknown, op).toContain(`no cost model for op '${op}'`);
    }
    expect(r.diagnostics.filter((d) => d.code === 'no-cost-model').length).toBe(ops.length);
  });
});

describe('nothing in the analysis throws on content', () => {
  it('a Constant with no value and an If without branches are reported, not thrown', () => {
    const b = new GraphBuilder({ opset: 17 });
    const k = b.op('Constant', [], {}, { name: 'empty_constant' });
    b.output(b.op('If', [b.input('c', DataType.BOOL, [])], {}, { name: 'branchless_if' }), 'y');
    b.output(k, 'z');
    const r = analyzeOk(b.build());
    expect(r.diagnostics.some((d) => d.node === 'empty_constant')).toBe(true);
    expect(r.layers.map((l) => l.name)).toEqual(['empty_constant', 'branchless_if']);
  });
});
