/**
 * The fuzzer's seed corpus: the committed fixtures, small zoo models, hand-built graphs that
 * exercise what exporters rarely write (every attribute kind, functions, training info, sparse
 * and external tensors, typed data fields, subgraphs capturing outer values, constant chains for
 * fold-constants), and a fixed list of ONNX backend-corpus models.
 *
 * The list and its order are deterministic: a case is replayed from (run seed, case index) only
 * if the same seeds are loaded in the same order, so the seed set's fingerprint is printed with
 * every run and stored with every finding.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Attribute,
  AttributeType,
  DataType,
  Graph,
  GraphBuilder,
  Node,
  OnnxFunction,
  Tensor,
  Value,
  type Model,
  type TensorSource,
} from '@onnxkit/graph';
import { encode, withDataField } from '@onnxkit/importer';
import { mobilenetv2, transformer } from '@onnxkit/zoo';
import { functionChain, intDivide, nestedIfs, signedZeros } from './hostile.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CORPUS_ROOT = '/usr/share/libonnx-testdata/data';

/** Backend-corpus models used as seeds: subgraphs, sequences, optionals, functions, strings, training. */
export const CORPUS_SEEDS = [
  'node/test_if',
  'node/test_if_seq',
  'node/test_if_opt',
  'node/test_loop11',
  'node/test_loop13_seq',
  'node/test_scan9_sum',
  'node/test_scan_sum',
  'node/test_range_float_type_positive_delta_expanded',
  'node/test_constantofshape_float_ones',
  'node/test_expand_dim_changed',
  'node/test_reshape_extended_dims',
  'node/test_conv_with_strides_padding',
  'node/test_batchnorm_epsilon_training_mode',
  'node/test_layer_normalization_4d_axis1_expanded',
  'node/test_sequence_map_add_2_sequences',
  'node/test_optional_get_element_sequence',
  'node/test_castlike_FLOAT_to_STRING_expanded',
  'node/test_sce_mean_weight_ii_expanded',
  'node/test_gru_defaults',
  'node/test_tile',
  'simple/test_sequence_model1',
  'simple/test_gradient_of_add',
  'simple/test_strnorm_model_monday_casesensintive_lower',
  'pytorch-converted/test_Conv2d_groups',
  'pytorch-operator/test_operator_pad',
] as const;

export interface Seed {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly source: 'fixture' | 'zoo' | 'builder' | 'corpus';
}

export interface SeedSet {
  readonly seeds: readonly Seed[];
  /** Names and sizes, hashed: two runs replay the same cases only with the same fingerprint. */
  readonly fingerprint: string;
  /** Why corpus seeds are missing, when they are (only with allowMissingCorpus). */
  readonly missing: string | undefined;
}

export interface SeedOptions {
  /** Without the corpus: throw (default) unless this is true (ONNXKIT_ALLOW_MISSING_CORPUS=1). */
  allowMissingCorpus?: boolean;
}

/** Seeds at most this large count as "small" (the issue's ≥ 1,000 cases/s target is about them). */
export const SMALL_SEED_BYTES = 64 * 1024;

let cached: SeedSet | undefined;

export function loadSeeds(options: SeedOptions = {}): SeedSet {
  if (cached !== undefined) return cached;
  const seeds: Seed[] = [];
  const fixtures = join(ROOT, 'fixtures');
  for (const d of readdirSync(fixtures).sort()) {
    const f = join(fixtures, d, 'model.onnx');
    if (d !== 'large' && existsSync(f)) seeds.push({ name: `fixture:${d}`, bytes: new Uint8Array(readFileSync(f)), source: 'fixture' });
  }
  for (const [name, build] of ZOO_SEEDS) seeds.push({ name: `zoo:${name}`, bytes: encode(build()), source: 'zoo' });
  for (const [name, build] of BUILDER_SEEDS) seeds.push({ name: `builder:${name}`, bytes: encode(build()), source: 'builder' });
  let missing: string | undefined;
  if (!existsSync(join(CORPUS_ROOT, 'node'))) {
    missing = `the ONNX backend test corpus is not installed at ${CORPUS_ROOT} (apt-get install libonnx-testdata)`;
    if (!(options.allowMissingCorpus ?? process.env.ONNXKIT_ALLOW_MISSING_CORPUS === '1')) {
      throw new Error(`${missing}; set ONNXKIT_ALLOW_MISSING_CORPUS=1 to fuzz without its seeds`);
    }
  } else {
    for (const id of CORPUS_SEEDS) {
      const f = join(CORPUS_ROOT, id, 'model.onnx');
      if (!existsSync(f)) throw new Error(`corpus seed ${id} is missing from ${CORPUS_ROOT} (a different libonnx-testdata version?)`);
      seeds.push({ name: `corpus:${id}`, bytes: new Uint8Array(readFileSync(f)), source: 'corpus' });
    }
  }
  let h = 0x811c9dc5;
  for (const s of seeds) for (const c of `${s.name}:${s.bytes.length};`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
  cached = { seeds, fingerprint: `${seeds.length}-${(h >>> 0).toString(16)}`, missing };
  return cached;
}

const ZOO_SEEDS: readonly (readonly [string, () => Model])[] = [
  ['transformer-encoder', () => transformer({ layers: 1, dModel: 32, heads: 2, ffn: 64, seqLen: 8, seed: 1 })],
  ['transformer-decoder-vocab', () => transformer({ layers: 1, dModel: 16, heads: 2, ffn: 32, seqLen: 'S', maxSeqLen: 16, vocab: 50, causal: true, seed: 2 })],
  ['transformer-opset13', () => transformer({ layers: 1, dModel: 16, heads: 4, ffn: 32, seqLen: 4, batch: 'N', opset: 13, seed: 3 })],
  ['mobilenetv2-tiny', () => mobilenetv2({ widthMultiplier: 0.1, imageSize: 32, numClasses: 10, seed: 4 })],
];

const f32 = (dims: number[], values: number[]): Tensor => Tensor.fromNumbers(DataType.FLOAT, dims, values);

/** Every attribute kind, a function, training info, sparse, string, typed-field and external tensors. */
function kitchenSink(): Model {
  const b = new GraphBuilder({ name: 'sink', opset: 18, opsets: { 'com.example': 1 } });
  const x = b.input('x', DataType.FLOAT, ['N', 4]);
  const cond = b.input('cond', DataType.BOOL, []);
  const custom = b.node('Custom', [x], {}, { domain: 'com.example', outputs: ['y'] });
  custom.setAttribute(Attribute.float('f', 0.25));
  custom.setAttribute(Attribute.int('i', -(2n ** 63n)));
  custom.setAttribute(Attribute.string('s', 'héllo'));
  custom.setAttribute(Attribute.tensor('t', f32([2], [1.5, -0]).with({ name: 'tval' })));
  custom.setAttribute(Attribute.floats('floats', [1, NaN, -Infinity]));
  custom.setAttribute(Attribute.ints('ints', [0, -1, 2n ** 40n]));
  custom.setAttribute(Attribute.strings('strings', ['a', '', 'ü']));
  custom.setAttribute(Attribute.tensors('tensors', [Tensor.fromNumbers(DataType.INT64, [2], [-5n, 7n])]));
  custom.setAttribute(Attribute.typeProto('tp', { kind: 'sequence', elem: { kind: 'tensor', elemType: DataType.INT8, shape: [3, 'M'] } }));
  custom.setAttribute(new Attribute('sp', AttributeType.SPARSE_TENSOR, { values: f32([2], [1, 2]), indices: Tensor.fromNumbers(DataType.INT64, [2], [0n, 3n]), dims: [4] }));
  b.constant('w_f16', Tensor.fromNumbers(DataType.FLOAT16, [3], [1, -2, 0.5]));
  b.constant('w_bf16', Tensor.fromNumbers(DataType.BFLOAT16, [2], [3, -1]));
  b.constant('w_int4', Tensor.fromNumbers(DataType.INT4, [3], [-8, 7, 1]));
  b.constant('w_u64', Tensor.fromNumbers(DataType.UINT64, [1], [2n ** 64n - 1n]));
  b.constant('w_c64', Tensor.fromArray(DataType.COMPLEX64, [1], Float32Array.of(1, 2)));
  b.constant('w_str', Tensor.fromStrings([2], ['x', 'yz']));
  b.constant('w_i64_varint', withDataField(Tensor.fromNumbers(DataType.INT64, [3], [1n, -1n, 300n]), 'int64_data'));
  b.constant('w_f_typed', withDataField(f32([2], [0.5, 2]), 'float_data'));
  b.constant('w_d_typed', withDataField(Tensor.fromNumbers(DataType.DOUBLE, [2], [0.5, 2]), 'double_data'));
  const external: TensorSource = {
    byteLength: 16,
    description: 'fuzz seed external tensor',
    external: { location: 'weights.bin', offset: 4096, length: 16 },
    read: () => new Uint8Array(16),
  };
  b.constant('w_external', Tensor.lazy(DataType.FLOAT, [4], external));
  const sparse = new Value({ name: 'w_sparse', type: { kind: 'sparse_tensor', elemType: DataType.FLOAT, shape: [3, 3] } });
  sparse.sparseValue = { values: f32([2], [5, 6]), indices: Tensor.fromNumbers(DataType.INT64, [2], [1n, 7n]), dims: [3, 3] };
  b.graph.addSparseInitializer(sparse);
  const thenG = new Graph({ name: 'then' });
  const inner = new Node('Identity', [custom.output], { outputs: ['then_out'] });
  thenG.append(inner);
  thenG.addOutput(inner.output);
  inner.output.type = { kind: 'tensor', elemType: DataType.FLOAT, shape: null };
  const elseG = new Graph({ name: 'else' });
  elseG.addOutput(x);
  const ifNode = b.node('If', [cond], { then_branch: thenG, else_branch: elseG }, { outputs: ['z'] });
  const called = b.node('Twice', [ifNode.output], {}, { domain: 'local', outputs: ['z2'] });
  b.output(called.output, 'z2', { kind: 'tensor', elemType: DataType.FLOAT, shape: null });
  const body = new Graph({ name: 'twice_body' });
  const fin = new Value({ name: 'a' });
  body.addInput(fin);
  const add = new Node('Add', [fin, fin], { outputs: ['b'] });
  body.append(add);
  body.addOutput(add.output);
  const m = b.build({ irVersion: 10, docString: 'fuzz kitchen sink', metadataProps: new Map([['k', 'v']]) });
  m.opsetImports.set('local', 1);
  m.functions.push(new OnnxFunction({ domain: 'local', name: 'Twice', graph: body, opsetImports: new Map([['', 18]]), attributeNames: ['alpha'] }));
  const init = new Graph({ name: 'init' });
  const zero = new Node('Constant', [], { outputs: ['w_reset'], attributes: [Attribute.tensor('value', f32([1], [0]))] });
  init.append(zero);
  init.addOutput(zero.output);
  m.trainingInfo.push({ initialization: init, algorithm: null, initializationBinding: [['w_f16', 'w_reset']], updateBinding: [] });
  m.graph.quantizationAnnotations.push({ tensorName: 'x', params: [['SCALE_TENSOR', 'w_f_typed']] });
  return m;
}

/** Loop and Scan bodies that capture outer-scope values. */
function loops(): Model {
  const b = new GraphBuilder({ name: 'loops', opset: 17 });
  const x = b.input('x', DataType.FLOAT, [2, 3]);
  const trip = b.int64s('trip', [3], []);
  const cond = b.constant('cond', Tensor.fromNumbers(DataType.BOOL, [], [1]));
  const scale = b.floats('scale', [3], [1, 2, 3]);
  const body = new Graph({ name: 'loop_body' });
  body.addInput(new Value({ name: 'i', type: { kind: 'tensor', elemType: DataType.INT64, shape: [] } }));
  const c = body.addInput(new Value({ name: 'c_in', type: { kind: 'tensor', elemType: DataType.BOOL, shape: [] } }));
  const acc = body.addInput(new Value({ name: 'acc', type: { kind: 'tensor', elemType: DataType.FLOAT, shape: [2, 3] } }));
  const mul = new Node('Mul', [acc, scale], { outputs: ['acc_out'] });
  const id = new Node('Identity', [c], { outputs: ['c_out'] });
  body.append(mul, id);
  body.addOutput(id.output);
  body.addOutput(mul.output);
  const loop = b.node('Loop', [trip, cond, x], { body }, { outputs: ['final'] });
  const scanBody = new Graph({ name: 'scan_body' });
  const s = scanBody.addInput(new Value({ name: 's', type: { kind: 'tensor', elemType: DataType.FLOAT, shape: [3] } }));
  const e = scanBody.addInput(new Value({ name: 'e', type: { kind: 'tensor', elemType: DataType.FLOAT, shape: [3] } }));
  const sum = new Node('Add', [s, e], { outputs: ['s_out'] });
  const copy = new Node('Identity', [sum.output], { outputs: ['scan_out'] });
  scanBody.append(sum, copy);
  scanBody.addOutput(sum.output);
  scanBody.addOutput(copy.output);
  const init = b.floats('init', [3], [0, 0, 0]);
  const scan = b.node('Scan', [init, loop.output], { body: scanBody, num_scan_inputs: 1 }, { outputs: ['total', 'partial'] });
  b.output(scan.outputs[0]!, 'total', { kind: 'tensor', elemType: DataType.FLOAT, shape: [3] });
  return b.build();
}

/** Conv + BN + Pad + bias + MatMul/Add + transposes/reshapes/squeezes: what the default preset rewrites. */
function rewritable(): Model {
  const b = new GraphBuilder({ name: 'rewritable', opset: 17 });
  const x = b.input('x', DataType.FLOAT, [1, 2, 6, 6]);
  const w = b.floats('w', [4, 2, 3, 3], Array.from({ length: 72 }, (_, k) => ((k * 37) % 11) / 10 - 0.5));
  const pads = b.int64s('pads', [0, 0, 1, 1, 0, 0, 1, 1]);
  const padded = b.op('Pad', [x, pads]);
  const conv = b.op('Conv', [padded, w], { kernel_shape: [3, 3], strides: [1, 1] });
  const bn = b.op('BatchNormalization', [conv, b.floats('g', [4], [1, 2, 0.5, 1]), b.floats('beta', [4], [0, 0.1, 0.2, 0.3]), b.floats('mean', [4], [0, 1, 0, 1]), b.floats('var', [4], [1, 1, 2, 2])], { epsilon: Attribute.float('epsilon', 1e-5) });
  const bias = b.op('Add', [bn, b.floats('bias', [1, 4, 1, 1], [1, 2, 3, 4])]);
  const act = b.op('Relu', [b.op('Identity', [bias])]);
  const t1 = b.op('Transpose', [act], { perm: [0, 2, 3, 1] });
  const t2 = b.op('Transpose', [t1], { perm: [0, 3, 1, 2] });
  const r1 = b.op('Reshape', [t2, b.int64s('s1', [1, 4, 36])]);
  const r2 = b.op('Reshape', [r1, b.int64s('s2', [1, 144])]);
  const u = b.op('Unsqueeze', [r2, b.int64s('ax0', [0])]);
  const sq = b.op('Squeeze', [u, b.int64s('ax1', [0])]);
  const mm = b.op('MatMul', [sq, b.floats('fc', [144, 3], Array.from({ length: 432 }, (_, k) => (k % 7) / 7))]);
  const out = b.op('Add', [mm, b.floats('fcb', [3], [0.1, 0.2, 0.3])]);
  const dup = b.op('Relu', [out]);
  const dup2 = b.op('Relu', [out]);
  b.output(b.op('Add', [dup, dup2]), 'y', { kind: 'tensor', elemType: DataType.FLOAT, shape: [1, 3] });
  return b.build();
}

/** Constant shape arithmetic and generators fold-constants and shape inference evaluate. */
function constantChains(): Model {
  const b = new GraphBuilder({ name: 'constants', opset: 17 });
  const x = b.input('x', DataType.FLOAT, ['N', 8]);
  const shape = b.op('Shape', [x]);
  const n = b.op('Gather', [shape, b.int64s('zero', [0], [])], { axis: 0 });
  const target = b.op('Concat', [b.op('Unsqueeze', [n, b.int64s('axes', [0])]), b.int64s('rest', [2, 4])], { axis: 0 });
  const reshaped = b.op('Reshape', [x, target]);
  const filled = b.op('ConstantOfShape', [b.int64s('cshape', [2, 4])], { value: f32([1], [0.5]) });
  const range = b.op('Range', [b.constant('r0', Tensor.scalar(DataType.FLOAT, 0)), b.constant('r1', Tensor.scalar(DataType.FLOAT, 4)), b.constant('r2', Tensor.scalar(DataType.FLOAT, 1))]);
  const tiled = b.op('Tile', [b.op('Unsqueeze', [range, b.int64s('axes2', [0])]), b.int64s('reps', [2, 1])]);
  const expanded = b.op('Expand', [b.floats('one', [1, 4], [1, 2, 3, 4]), b.int64s('eshape', [2, 4])]);
  const sum = b.op('Add', [b.op('Add', [filled, tiled]), b.op('Mul', [expanded, b.op('Cast', [b.constant('k', Tensor.scalar(DataType.INT64, 2))], { to: DataType.FLOAT })])]);
  b.output(b.op('Add', [reshaped, sum]), 'y', { kind: 'tensor', elemType: DataType.FLOAT, shape: ['N', 2, 4] });
  return b.build();
}

const BUILDER_SEEDS: readonly (readonly [string, () => Model])[] = [
  ['kitchen-sink', kitchenSink],
  ['loops', loops],
  ['rewritable', rewritable],
  ['constant-chains', constantChains],
  // Issue 13: local functions that multiply when inlined, deep legitimate nesting, signed zeros,
  // an integer division onnxruntime faults on.
  ['function-fanout', () => functionChain(12, 2)],
  ['function-chain', () => functionChain(100, 1)],
  ['nested-ifs', () => nestedIfs(22)],
  ['signed-zeros', signedZeros],
  ['int-div', () => intDivide('Div')],
];
