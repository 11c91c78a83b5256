/**
 * The operator registry (src/ops/registry.ts) against itself and its derived views: every op
 * states each core facet (attributes, shape rule, cost) or says why not, every optional facet has
 * one stated meaning of absence (FACETS) and agrees with the others, no op is registered
 * twice, lookups are prototype-safe, and the tables the analyses and rewrites read
 * (COST_TABLE, SHAPE_RULES, SUPPORTED_KERNELS, the attribute schema, WEIGHT_SLOTS, FP16_OPS,
 * the known-attribute lists) are exactly what the op declarations say.
 */
import { describe, expect, it } from 'vitest';
import { AttributeType, DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
import { COST_TABLE } from '../../src/analysis/cost-table.js';
import { SHAPE_RULES } from '../../src/analysis/shape-rules.js';
import { ATTRIBUTE_TYPES, expectedAttributeType } from '../../src/common/attribute-schema.js';
import { SUPPORTED_KERNELS } from '../../src/kernels/index.js';
import { readFileSync } from 'node:fs';
import { FP16_SAFE, getOp, int8WeightAxis, knownAttributes, NONDETERMINISTIC_OPS, noKernelWhy, OPS, ORT_FACET, QUANTIZE_FACET, REGISTRY, registerOps, SUBGRAPH_OPS, WEIGHT_INPUTS, WEIGHT_PASS_THROUGH, ZERO_COPY_KERNELS } from '../../src/ops/registry.js';
import { CHANGED_BY_13_WHY, defineOp, FACETS, isUndeclared, undeclared, UNDECLARED_KINDS, type FacetName, type OpDef } from '../../src/ops/types.js';
import { FP16_OPS, WEIGHT_SLOTS } from '../../src/rewrite/index.js';
import { anchorKey } from '../../src/rewrite/op-counts.js';
import { runsInPlace, type OpCost } from '../../src/ops/cost.js';
import * as passes from '@onnxkit/passes';

const declared = <T>(facet: T): facet is Exclude<T, { undeclared: string }> => !isUndeclared(facet);

describe('the operator registry', () => {
  it('registers each op once, in the default domain unless it says otherwise', () => {
    const keys = OPS.map((op) => `${op.domain}::${op.type}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(Object.keys(REGISTRY).length).toBe(OPS.length);
    expect(OPS.length).toBeGreaterThan(150);
    const twice = [defineOp({ type: 'Twice', attributes: {}, shape: undeclared('not-modelled', 'test'), cost: undeclared('not-modelled', 'test') })];
    expect(() => registerOps([...twice, ...twice])).toThrow(/Twice is registered twice/);
    // The package's public API serves the same registry (the CLI and the reference evaluator read it).
    expect(passes.getOp('Conv')).toBe(getOp('Conv'));
    expect(passes.OPS).toBe(OPS);
  });

  it('has every op state each facet or why it lacks it: attributes, shape and cost by the op, an optional facet by its one meaning of absence (FACETS)', () => {
    const facets = Object.keys(FACETS) as FacetName[];
    const required = facets.filter((f) => FACETS[f] === null);
    expect(required.sort()).toEqual(['attributes', 'cost', 'shape']);
    for (const f of facets) if (FACETS[f] !== null) expect(FACETS[f], f).toMatch(/\w{3}/);
    const silent: string[] = [];
    for (const op of OPS) {
      for (const facet of required) {
        const value = op[facet];
        if (value === undefined) silent.push(`${op.type}.${facet}`);
        else if (isUndeclared(value) && (!/\w{3}/.test(value.undeclared) || !UNDECLARED_KINDS.includes(value.kind))) silent.push(`${op.type}.${facet}: empty reason or no kind`);
      }
      // Nothing else: a misspelt facet (e.g. through withFacets) is not silently ignored.
      for (const key of Object.keys(op)) if (key !== 'type' && key !== 'domain' && !(key in FACETS)) silent.push(`${op.type}.${key}: not a facet`);
      if (declared(op.shape)) expect(typeof op.shape, op.type).toBe('function');
      if (op.kernel) expect(op.kernel.note, op.type).toMatch(/\w/);
      if (op.reference) expect(typeof op.reference, op.type).toBe('function');
    }
    expect(silent).toEqual([]);
  });

  it('keeps the optional facets consistent with each other', () => {
    const wrong: string[] = [];
    for (const op of OPS) {
      const t = op.type;
      const slots = (xs: readonly number[] | undefined): boolean => xs === undefined || xs.every((i) => Number.isInteger(i) && i >= 0);
      if (!slots(op.weightInputs) || !slots(op.fp16?.keepFloat32)) wrong.push(`${t}: input slots`);
      if (op.int8WeightAxis && !op.weightInputs) wrong.push(`${t}: an int8 weight axis but no weight inputs`);
      const q = op.quantize;
      const weighted = q !== undefined && ['conv', 'gemm', 'matmul'].includes(q.placement);
      if (weighted && !op.int8WeightAxis) wrong.push(`${t}: quantized with a weight but no int8WeightAxis`);
      if (q?.anchor && !weighted) wrong.push(`${t}: an anchor without a weight`);
      if (op.ort?.qdq === 'mac' && !q?.anchor) wrong.push(`${t}: an integer MAC kernel in onnxruntime that the quantizer does not anchor on`);
      if (q && op.ort?.qdq === undefined && t !== 'ConvTranspose') wrong.push(`${t}: quantized, but onnxruntime has no QDQ form of it`);
      const from = op.sameAt13From;
      if (typeof from === 'number' && !(Number.isInteger(from) && from >= 10 && from <= 13)) wrong.push(`${t}: sameAt13From ${from}`);
      if (typeof from === 'object' && !(from.changedBy13 in CHANGED_BY_13_WHY)) wrong.push(`${t}: changedBy13 ${String(from.changedBy13)}`);
      if (op.ort?.eliminated && op.ort.fusesIntoConv) wrong.push(`${t}: eliminated and fused`);
      if (op.ort?.qdqFloatOutput && op.ort.qdq !== 'mac') wrong.push(`${t}: a float output of a kernel that is not 'mac'`);
      if (op.ort?.float16 !== undefined && op.fp16 !== undefined) wrong.push(`${t}: float16-safe, yet onnxruntime has no float16 kernel for it`);
      const only = op.ort?.qdqInputs;
      if (only !== undefined && (only.length === 0 || !slots(only) || (op.ort!.qdq !== 'mac' && op.ort!.qdq !== 'element'))) wrong.push(`${t}: qdqInputs without a fused integer kernel, or naming no input`);
      // The quantizer dequantizes exactly the inputs onnxruntime's QDQ form reads dequantized (Where: X and Y, not its condition).
      if ((q?.placement === 'select') !== (only !== undefined) || (only !== undefined && only.join() !== '1,2')) wrong.push(`${t}: a select placement needs qdqInputs [1, 2], and only it`);
    }
    expect(wrong).toEqual([]);
  });

  it('derives the onnxruntime, quantizer, control-flow and nondeterminism views from the facets', () => {
    expect(Object.keys(ORT_FACET).sort()).toEqual(OPS.filter((op) => op.domain === '' && op.ort).map((op) => op.type).sort());
    expect(Object.keys(QUANTIZE_FACET).sort()).toEqual(OPS.filter((op) => op.domain === '' && op.quantize).map((op) => op.type).sort());
    expect([...SUBGRAPH_OPS].sort()).toEqual(['If', 'Loop', 'Scan']);
    // The quantizer's ops are those it quantized before they were facets, and Where (onnxruntime's QLinearWhere: ort-qdq test).
    expect([...passes.QUANTIZABLE_OPS].sort()).toEqual(['Add', 'AveragePool', 'Concat', 'Conv', 'ConvTranspose', 'Flatten', 'Gemm', 'GlobalAveragePool', 'LeakyRelu', 'MatMul', 'MaxPool', 'Mul', 'Reshape', 'Resize', 'Sigmoid', 'Softmax', 'Squeeze', 'Transpose', 'Unsqueeze', 'Where']);
    expect([...passes.SHARED_SCALE_OPS].sort()).toEqual(['AveragePool', 'Flatten', 'MaxPool', 'Reshape', 'Resize', 'Squeeze', 'Transpose', 'Unsqueeze']);
  });

  it('declares the random ops and Dropout nondeterministic, and types `seed` per op (INT on Dropout, FLOAT on the random ops)', () => {
    expect([...NONDETERMINISTIC_OPS].sort()).toEqual(['Bernoulli', 'Dropout', 'Multinomial', 'RandomNormal', 'RandomNormalLike', 'RandomUniform', 'RandomUniformLike']);
    expect(expectedAttributeType('Dropout', 'seed')).toBe(AttributeType.INT);
    expect(expectedAttributeType('RandomNormal', 'seed')).toBe(AttributeType.FLOAT);
    expect(knownAttributes('Dropout')).toContain('seed');
  });

  it('keys ops one way: a rule anchor of another domain is the registry key domain::type', () => {
    const b = new GraphBuilder({ opset: 17, opsets: { 'com.microsoft': 1 } });
    const x = b.input('x', DataType.FLOAT, [2]);
    b.output(b.node('Gelu', [x], {}, { domain: 'com.microsoft', name: 'g' }).outputs[0]!);
    b.output(b.op('Relu', [x], {}, { name: 'r' }));
    const nodes = [...b.build().graph];
    expect(nodes.map(anchorKey)).toEqual(['com.microsoft::Gelu', 'Relu']);
    expect(getOp('QGemm', 'com.microsoft')?.type).toBe('QGemm');
  });

  it('states node-dependent cost facts on the op: BatchNormalization runs in place except in training mode; zero-copy kernels', () => {
    const b = new GraphBuilder({ opset: 15 });
    const x = b.input('x', DataType.FLOAT, [1, 2, 2, 2]);
    const p = (n: string) => b.constant(n, Tensor.fromArray(DataType.FLOAT, [2], new Float32Array(2)));
    const infer = b.node('BatchNormalization', [x, p('s'), p('b'), p('m'), p('v')], {}, { name: 'infer' });
    const train = b.node('BatchNormalization', [x, p('s2'), p('b2'), p('m2'), p('v2')], { training_mode: 1 }, { name: 'train' });
    b.output(infer.outputs[0]!);
    b.output(train.outputs[0]!);
    const cost = getOp('BatchNormalization')!.cost as OpCost;
    expect([runsInPlace(cost, infer), runsInPlace(cost, train)]).toEqual([true, false]);
    expect(runsInPlace(getOp('Relu')!.cost as OpCost, infer)).toBe(true);
    expect(ZERO_COPY_KERNELS).toEqual({ Constant: 'unread', Identity: 'unread', Dropout: 'view' });
  });

  it("names every facet in README's 'Adding an operator'", () => {
    const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Adding an operator'), readme.indexOf('## Development'));
    const missing = Object.keys(FACETS).filter((f) => !section.includes(`\`${f}\``));
    expect(missing).toEqual([]);
  });

  it('finds nothing for names an object inherits (constructor, __proto__, toString)', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(getOp(name), name).toBeUndefined();
      expect(COST_TABLE[name], name).toBeUndefined();
      expect(SHAPE_RULES[name], name).toBeUndefined();
      expect(SUPPORTED_KERNELS[name], name).toBeUndefined();
      expect(WEIGHT_SLOTS[name], name).toBeUndefined();
      expect(FP16_OPS[name], name).toBeUndefined();
      expect(name in ATTRIBUTE_TYPES, name).toBe(false);
      expect(WEIGHT_PASS_THROUGH.has(name), name).toBe(false);
    }
  });

  it('derives every per-facet table from the declarations, entry by entry', () => {
    const byType = new Map<string, OpDef>(OPS.filter((op) => op.domain === '').map((op) => [op.type, op]));
    const expectView = <T>(table: Readonly<Record<string, T>>, pick: (op: OpDef) => T | undefined): void => {
      // Per-type tables hold the default domain; other domains' costs are keyed domain::type (CONTRIB_COST_FACET).
      const want = OPS.filter((op) => op.domain === '' && pick(op) !== undefined).map((op) => op.type).sort();
      expect(Object.keys(table).sort()).toEqual(want);
      for (const [type, v] of Object.entries(table)) expect(v, type).toBe(pick(byType.get(type)!));
    };
    expectView(COST_TABLE, (op) => (declared(op.cost) ? op.cost : undefined));
    expectView(SHAPE_RULES, (op) => (declared(op.shape) ? op.shape : undefined));
    expectView(SUPPORTED_KERNELS, (op) => op.kernel?.note);
    expectView(WEIGHT_SLOTS, (op) => op.weightInputs);
    expectView(FP16_OPS, (op) => op.fp16?.keepFloat32);
    expect(WEIGHT_SLOTS).toBe(WEIGHT_INPUTS);
    expect(FP16_OPS).toBe(FP16_SAFE);
    expect([...WEIGHT_PASS_THROUGH].sort()).toEqual(OPS.filter((op) => op.passesWeights).map((op) => op.type).sort());
  });

  it('types every declared attribute as its op declares it, with a default of that type', () => {
    const wrong: string[] = [];
    for (const op of OPS) {
      if (!declared(op.attributes)) continue;
      for (const [name, spec] of Object.entries(op.attributes)) {
        // The derived schema checks default-domain nodes only; a contrib op's schema is its own.
        if (op.domain === '' && expectedAttributeType(op.type, name) !== spec.type) wrong.push(`${op.type}.${name}: schema says ${expectedAttributeType(op.type, name)}, op says ${spec.type}`);
        const d = spec.default;
        if (d === undefined) continue;
        const ok =
          spec.type === AttributeType.INT ? Number.isInteger(d) :
          spec.type === AttributeType.FLOAT ? typeof d === 'number' :
          spec.type === AttributeType.STRING ? typeof d === 'string' :
          spec.type === AttributeType.INTS ? Array.isArray(d) && d.every((x) => Number.isInteger(x)) : false;
        if (!ok) wrong.push(`${op.type}.${name}: default ${JSON.stringify(d)} is not a ${AttributeType[spec.type]}`);
      }
    }
    expect(wrong).toEqual([]);
    // A name typed differently by two ops is checked per op, never by name alone.
    expect(ATTRIBUTE_TYPES['value']).toBeUndefined();
    expect(expectedAttributeType('Constant', 'value')).toBe(AttributeType.TENSOR);
    expect(expectedAttributeType('Pad', 'value')).toBe(AttributeType.FLOAT);
  });

  it('gives the rewrites the ONNX attribute lists of Conv and the pools', () => {
    expect([...knownAttributes('Conv')].sort()).toEqual(['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides']);
    expect([...knownAttributes('AveragePool')].sort()).toEqual(['auto_pad', 'ceil_mode', 'count_include_pad', 'dilations', 'kernel_shape', 'pads', 'strides']);
    expect([...knownAttributes('MaxPool')].sort()).toEqual(['auto_pad', 'ceil_mode', 'dilations', 'kernel_shape', 'pads', 'storage_order', 'strides']);
    expect([...knownAttributes('ConvTranspose')].sort()).toEqual(['auto_pad', 'dilations', 'group', 'kernel_shape', 'output_padding', 'output_shape', 'pads', 'strides']);
    expect([...knownAttributes('Gemm')].sort()).toEqual(['alpha', 'beta', 'broadcast', 'transA', 'transB']);
    expect([...knownAttributes('BatchNormalization')].sort()).toEqual(['consumed_inputs', 'epsilon', 'is_test', 'momentum', 'spatial', 'training_mode']);
    expect(() => knownAttributes('NoSuchOp')).toThrow(/declares no attribute schema/);
  });

  it('names the output-channel axis of int8-quantizable weights (Conv 0, ConvTranspose 1 ungrouped, Gemm by transB, 2-D MatMul 1)', () => {
    const b = new GraphBuilder({ opset: 17 });
    const F = DataType.FLOAT;
    const x = b.input('x', F, [1, 4, 8, 8]);
    const w = b.constant('w', Tensor.fromArray(F, [4, 4, 1, 1], new Float32Array(16)));
    const conv = b.op('Conv', [x, w], {}, { name: 'conv' });
    const convT = b.op('ConvTranspose', [x, w], {}, { name: 'convT' });
    const grouped = b.op('ConvTranspose', [x, w], { group: 2 }, { name: 'grouped' });
    const m2 = b.input('m', F, [3, 4]);
    const w2 = b.constant('w2', Tensor.fromArray(F, [4, 4], new Float32Array(16)));
    const gemm = b.op('Gemm', [m2, w2], {}, { name: 'gemm' });
    const gemmT = b.op('Gemm', [m2, w2], { transB: 1 }, { name: 'gemmT' });
    const mm = b.op('MatMul', [m2, w2], {}, { name: 'mm' });
    const relu = b.op('Relu', [mm], {}, { name: 'relu' });
    for (const v of [conv, convT, grouped, gemm, gemmT, relu]) b.output(v);
    const nodes = new Map([...b.build().graph].map((n) => [n.name, n]));
    const axis = (name: string, input: number, rank: number) => int8WeightAxis(nodes.get(name)!, input, rank);
    expect([axis('conv', 1, 4), axis('conv', 0, 4), axis('convT', 1, 4), axis('grouped', 1, 4)]).toEqual([0, undefined, 1, undefined]);
    expect([axis('gemm', 1, 2), axis('gemmT', 1, 2), axis('gemm', 0, 2)]).toEqual([1, 0, undefined]);
    expect([axis('mm', 1, 2), axis('mm', 1, 3), axis('relu', 0, 2)]).toEqual([1, undefined, undefined]);
  });
});

describe('noKernelWhy', () => {
  it('one reason object per registered op type; an unregistered type (a name from a file) is cached nowhere', () => {
    expect(noKernelWhy('RandomNormal')).toBe(noKernelWhy('RandomNormal'));
    expect(noKernelWhy('RandomNormal').kind).toBe('nondeterministic');
    expect(noKernelWhy('If').kind).toBe('subgraphs');
    const a = noKernelWhy('NoSuchOp1');
    expect(a.kind).toBe('not-registered');
    expect(a.why).toMatch(/^NoSuchOp1: not registered/);
    // A module-level cache keyed by these names grew with every new name a process met.
    expect(noKernelWhy('NoSuchOp1')).not.toBe(a);
  });
});
