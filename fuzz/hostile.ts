/**
 * Hand-built hostile models (issue 13): each is small on disk and attacks one class — local
 * functions that recurse or multiply when inlined, a chain of functions deep enough to crash
 * onnxruntime, integer division that faults, signed zeros, duplicate names, names carrying
 * terminal escape sequences. The fuzzer uses them as seeds; the regression tests build them too.
 */
import { Attribute, DataType, Graph, GraphBuilder, Node, OnnxFunction, Tensor, Value, type Model } from '@onnxkit/graph';
import { encode } from '@onnxkit/importer';

/** A function body `out = f(in)`: `calls` calls of `callee` in sequence (or an Identity when callee is null). */
function body(name: string, callee: string | null, calls: number): Graph {
  const g = new Graph({ name: `${name}_body` });
  const fin = new Value({ name: 'in' });
  g.addInput(fin);
  let cur = fin;
  if (callee === null) {
    const n = new Node('Identity', [cur], { outputs: ['out'] });
    g.append(n);
    g.addOutput(n.output);
    return g;
  }
  for (let i = 0; i < calls; i++) {
    const n = new Node(callee, [cur], { domain: 'local', outputs: [i === calls - 1 ? 'out' : `t${i}`] });
    g.append(n);
    cur = n.output;
  }
  g.addOutput(cur);
  return g;
}

function withFunctions(name: string, entry: string, functions: OnnxFunction[]): Model {
  const b = new GraphBuilder({ name, opset: 17 });
  const x = b.input('x', DataType.FLOAT, [2]);
  const call = b.node(entry, [x], {}, { domain: 'local', outputs: ['y'] });
  b.output(call.output, 'y', { kind: 'tensor', elemType: DataType.FLOAT, shape: [2] });
  const m = b.build();
  m.opsetImports.set('local', 1);
  for (const f of functions) m.functions.push(f);
  return m;
}

function fn(name: string, g: Graph): OnnxFunction {
  return new OnnxFunction({ domain: 'local', name, graph: g, opsetImports: new Map([['', 17], ['local', 1]]) });
}

/**
 * f0 = Identity, f{i} calls f{i-1} `fanout` times; the graph calls f{n-1}. With fanout 1 and
 * n = 10,000 onnxruntime's recursive inliner overflows its stack (SIGSEGV); with fanout 2 and
 * n = 40 the fully inlined graph would have 2^40 nodes from a 2 KB file.
 */
export function functionChain(n: number, fanout = 1): Model {
  const fs: OnnxFunction[] = [];
  for (let i = 0; i < n; i++) fs.push(fn(`f${i}`, body(`f${i}`, i === 0 ? null : `f${i - 1}`, fanout)));
  return withFunctions(`function-chain-${n}x${fanout}`, `f${n - 1}`, fs);
}

/** f0 → f1 → … → f{k-1} → f0: mutually recursive local functions (k = 1: a function calling itself). */
export function recursiveFunctions(k = 1): Model {
  const fs: OnnxFunction[] = [];
  for (let i = 0; i < k; i++) fs.push(fn(`f${i}`, body(`f${i}`, `f${(i + 1) % k}`, 1)));
  return withFunctions(`recursive-functions-${k}`, 'f0', fs);
}

/** y = a / b (or Mod) on int32 [2]: fed INT32_MIN / -1, onnxruntime raises SIGFPE on x86. */
export function intDivide(op: 'Div' | 'Mod' = 'Div', name = 'int-div'): Model {
  const b = new GraphBuilder({ name, opset: 17 });
  const x = b.input('a', DataType.INT32, [2]);
  const y = b.input('b', DataType.INT32, [2]);
  b.output(b.op(op, [x, y], op === 'Mod' ? { fmod: 0 } : {}), 'y', { kind: 'tensor', elemType: DataType.INT32, shape: [2] });
  return b.build();
}

/** Feeds for intDivide that fault: INT32_MIN / -1 (the quotient 2^31 does not fit). */
export function faultingFeeds(): Map<string, Tensor> {
  return new Map([
    ['a', Tensor.fromArray(DataType.INT32, [2], Int32Array.of(-(2 ** 31), 7))],
    ['b', Tensor.fromArray(DataType.INT32, [2], Int32Array.of(-1, 2))],
  ]);
}

/** y = a + b on int32 [2]: the harmless twin of fuzz/hostile.ts's intDivide (same inputs and output). */
export function intAdd(name = 'int-add'): Model {
  const b = new GraphBuilder({ name, opset: 17 });
  b.output(b.op('Add', [b.input('a', DataType.INT32, [2]), b.input('b', DataType.INT32, [2])]), 'y', { kind: 'tensor', elemType: DataType.INT32, shape: [2] });
  return b.build();
}

/**
 * y = a + (a·0 + INT32_MIN) / (b·0 − 1) on int32 [2]: INT32_MIN / −1 whatever the inputs, so
 * onnxruntime raises SIGFPE on every run (with synthetic inputs too). Same interface as intAdd.
 */
export function alwaysFaulting(name = 'always-fpe'): Model {
  const b = new GraphBuilder({ name, opset: 17 });
  const a = b.input('a', DataType.INT32, [2]);
  const d = b.input('b', DataType.INT32, [2]);
  const c = (v: number): Value => b.constant(`c${v}`, Tensor.fromArray(DataType.INT32, [], Int32Array.of(v)));
  const zero = c(0);
  const num = b.op('Add', [b.op('Mul', [a, zero]), c(-(2 ** 31))]);
  const den = b.op('Sub', [b.op('Mul', [d, zero]), c(1)]);
  b.output(b.op('Add', [a, b.op('Div', [num, den])]), 'y', { kind: 'tensor', elemType: DataType.INT32, shape: [2] });
  return b.build();
}

/**
 * A model with two initializers named 'dupAAAA' (or, with `sparse`, a dense and a sparse one):
 * IR cannot hold that, so it is encoded with two names of equal length and the second renamed
 * in the bytes. onnxruntime uses the last definition; the graph adds the first to its input.
 */
export function duplicateInitializerBytes(sparse = false): Uint8Array {
  const b = new GraphBuilder({ name: 'dup', opset: 17 });
  const x = b.input('x', DataType.FLOAT, [2]);
  const w = b.constant('dupAAAA', Tensor.fromArray(DataType.FLOAT, [2], Float32Array.of(1, 1)));
  b.output(b.op('Add', [x, w]), 'y');
  if (sparse) {
    const v = new Value({ name: 'dupBBBB', type: { kind: 'sparse_tensor', elemType: DataType.FLOAT, shape: [2] } });
    v.sparseValue = { values: Tensor.fromArray(DataType.FLOAT, [1], Float32Array.of(100), { name: 'dupBBBB' }), indices: Tensor.fromArray(DataType.INT64, [1], BigInt64Array.of(0n)), dims: [2] };
    b.graph.addSparseInitializer(v);
  } else {
    b.graph.addInitializer(new Value({ name: 'dupBBBB', constValue: Tensor.fromArray(DataType.FLOAT, [2], Float32Array.of(100, 100), { name: 'dupBBBB' }) }));
  }
  const bytes = Buffer.from(encode(b.build()));
  const from = Buffer.from('dupBBBB');
  const to = Buffer.from('dupAAAA');
  for (let i = bytes.indexOf(from); i >= 0; i = bytes.indexOf(from, i + 1)) to.copy(bytes, i);
  return new Uint8Array(bytes);
}

/**
 * `depth` If nodes nested in each other's then-branch (a legitimate shape: exporters nest
 * conditionals this deep); y = x when every condition holds.
 */
export function nestedIfs(depth: number): Model {
  const b = new GraphBuilder({ name: `nested-if-${depth}`, opset: 17 });
  const x = b.input('x', DataType.FLOAT, [2]);
  const cond = b.input('c', DataType.BOOL, []);
  let inner: Graph | null = null;
  for (let level = depth - 1; level >= 0; level--) {
    const thenG = new Graph({ name: `then${level}` });
    if (inner === null) {
      const n = new Node('Identity', [x], { outputs: [`t${level}`] });
      thenG.append(n);
      thenG.addOutput(n.output);
    } else {
      const n = new Node('If', [cond], { outputs: [`t${level}`] });
      n.setAttribute(Attribute.graph('then_branch', inner));
      n.setAttribute(Attribute.graph('else_branch', identityBranch(x, `e${level + 1}`)));
      thenG.append(n);
      thenG.addOutput(n.output);
    }
    inner = thenG;
  }
  const top = b.node('If', [cond], { then_branch: inner!, else_branch: identityBranch(x, 'e0') }, { outputs: ['y'] });
  b.output(top.output, 'y', { kind: 'tensor', elemType: DataType.FLOAT, shape: [2] });
  return b.build();
}

function identityBranch(x: Value, name: string): Graph {
  const g = new Graph({ name: `else_${name}` });
  const n = new Node('Identity', [x], { outputs: [name] });
  g.append(n);
  g.addOutput(n.output);
  return g;
}

/**
 * y = 1 / (x + (+0)) and 1 / (x − (−0)): removing the "identity" Add/Sub flips −inf to +inf for
 * x = −0, so an exact rewrite must keep them (the signed-zero seed of the fuzzer).
 */
export function signedZeros(): Model {
  const b = new GraphBuilder({ name: 'signed-zeros', opset: 17 });
  const x = b.input('x', DataType.FLOAT, [4]);
  const one = b.constant('one', Tensor.fromArray(DataType.FLOAT, [1], Float32Array.of(1)));
  const pz = b.constant('pz', Tensor.fromArray(DataType.FLOAT, [4], Float32Array.of(0, 0, 0, 0)));
  const nz = b.constant('nz', Tensor.fromArray(DataType.FLOAT, [4], Float32Array.of(-0, -0, -0, -0)));
  b.output(b.op('Div', [one, b.op('Add', [x, pz])]), 'y_add');
  b.output(b.op('Div', [one, b.op('Sub', [x, nz])]), 'y_sub');
  return b.build();
}
