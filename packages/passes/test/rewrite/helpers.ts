/**
 * Test helpers for the rewrite passes: run a pass with verify() after it, prove idempotence,
 * and compare a model with its rewritten copy in onnxruntime-node (through @onnxkit/runtime,
 * graphOptimizationLevel 'disabled', fp32 tolerance atol 1e-5 AND rtol 1e-4, NaN == NaN).
 */
import { DataType, Graph, Model, Node, Tensor, Value, cloneModel, verifyErrors } from '@onnxkit/graph';
import { encode } from '@onnxkit/importer';
import { RuntimeWorker, compareOutputs, createSession, readNpy, syntheticInputs, writeNpy, type OutputsComparison } from '@onnxkit/runtime';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getPass, standaloneContext, type ConstantEvaluator, type PassOptions, type PassResult } from '@onnxkit/passes';
import { expect } from 'vitest';
import { PYTHON, pythonHas } from '../../../../test/helpers/python.js';

/** Runs one pass directly and checks the model still verifies and the pass contract holds. */
export async function runPass(name: string, model: Model, options: PassOptions = {}, evaluator?: ConstantEvaluator): Promise<PassResult> {
  const r = await getPass(name).run(model, standaloneContext(options, evaluator ? { evaluator } : {}));
  expect(verifyErrors(model), `verify() after ${name}`).toEqual([]);
  expect(r.modified).toBe(r.changes > 0);
  return r;
}

/** Runs a pass, then again, asserting the second run changes nothing (idempotence). */
export async function runTwice(name: string, model: Model, options: PassOptions = {}, evaluator?: ConstantEvaluator): Promise<PassResult> {
  const first = await runPass(name, model, options, evaluator);
  const second = await runPass(name, model, options, evaluator);
  expect(second.modified, `${name} is idempotent (second run: ${JSON.stringify(second.log.map((c) => c.description))})`).toBe(false);
  expect(second.changes).toBe(0);
  return first;
}

export function opTypes(model: Model): string[] {
  return model.graph.nodes.map((n) => n.opType);
}

export function countOps(model: Model, op: string): number {
  let n = 0;
  for (const g of model.graphs()) for (const node of g) if (node.opType === op) n++;
  return n;
}

let sharedWorker: RuntimeWorker | undefined;
export function worker(): RuntimeWorker {
  return (sharedWorker ??= new RuntimeWorker());
}
export async function closeWorker(): Promise<void> {
  await sharedWorker?.terminate();
  sharedWorker = undefined;
}

/** Runs `model` in onnxruntime (disabled optimizations) on `feeds`. */
export async function ortRun(model: Model, feeds: Map<string, Tensor>): Promise<Map<string, Tensor>> {
  const s = await createSession(model, { worker: worker(), graphOptimizationLevel: 'disabled', intraOpNumThreads: 1 });
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

/** Seeded inputs for a model (symbolic dims bound to `dim`). */
export async function inputsFor(model: Model, seed = 1, dimValues?: Record<string, number>): Promise<Map<string, Tensor>> {
  const s = await createSession(model, { worker: worker(), graphOptimizationLevel: 'disabled' });
  try {
    return syntheticInputs(s, { seed, distribution: 'normal', ...(dimValues ? { dimValues } : {}) });
  } finally {
    await s.release();
  }
}

/**
 * Applies `rewrite` to a clone of `model` and compares both in onnxruntime on the same seeded
 * inputs. Returns the comparison (fp32 default tolerances of @onnxkit/runtime: atol 1e-5, rtol 1e-4).
 */
export async function equivalentAfter(model: Model, rewrite: (m: Model) => Promise<unknown> | unknown, feeds?: Map<string, Tensor>): Promise<{ cmp: OutputsComparison; rewritten: Model }> {
  const rewritten = cloneModel(model);
  await rewrite(rewritten);
  expect(verifyErrors(rewritten)).toEqual([]);
  const inputs = feeds ?? (await inputsFor(model));
  const a = await ortRun(model, inputs);
  const b = await ortRun(rewritten, inputs);
  const cmp = compareOutputs(a, b, { atol: 1e-5, rtol: 1e-4 });
  return { cmp, rewritten };
}

/** Float32 tensor from a generator (deterministic). */
export function f32(dims: number[], gen: (i: number) => number): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = gen(i);
  return Tensor.fromArray(DataType.FLOAT, dims, a);
}

/** A small deterministic pseudo-random sequence in [-1, 1). */
export function rnd(seed: number): (i: number) => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) / 2 ** 32) * 2 - 1;
  };
}

/**
 * A ConstantEvaluator backed by onnxruntime (what packages/runtime will provide): builds a
 * model of the given nodes with their constant inputs as graph inputs and runs it.
 */
export function ortEvaluator(): ConstantEvaluator & { calls: number } {
  const ev = {
    calls: 0,
    async evaluate(nodes: readonly Node[], inputs: ReadonlyMap<Value, Tensor>, opset: number): Promise<Map<Value, Tensor>> {
      ev.calls++;
      const g = new Graph({ name: 'const_eval' });
      const map = new Map<Value, Value>();
      const feeds = new Map<string, Tensor>();
      let k = 0;
      for (const [v, t] of inputs) {
        const name = `in_${k++}`;
        const nv = new Value({ name, type: { kind: 'tensor', elemType: t.dtype, shape: t.dims } });
        g.addInput(nv);
        map.set(v, nv);
        feeds.set(name, t);
      }
      const outs: [Value, Value][] = [];
      for (const n of nodes) {
        const copy = new Node(n.opType, n.inputs.map((v) => (v ? (map.get(v) ?? null) : null)), {
          domain: n.domain,
          attributes: [...n.attributes.values()],
          outputs: n.outputs.map((o, i) => (o.name ? `out_${outs.length}_${i}` : '')),
        });
        g.append(copy);
        n.outputs.forEach((o, i) => {
          if (!o.name) return;
          map.set(o, copy.outputs[i]!);
          outs.push([o, copy.outputs[i]!]);
        });
      }
      for (const [, nv] of outs) g.addOutput(nv);
      const model = new Model({ graph: g, opsetImports: { '': opset }, irVersion: 8 });
      const res = await ortRun(model, feeds);
      const result = new Map<Value, Tensor>();
      for (const [o, nv] of outs) {
        const t = res.get(nv.name);
        if (t) result.set(o, t);
      }
      return result;
    },
  };
  return ev;
}

/** True when Debian's python3 with torch and onnx is installed (needed by float64Reference). */
export function hasTorch(): boolean {
  return pythonHas('torch, onnx');
}

/** Fails clearly when torch is missing, unless ONNXKIT_ALLOW_MISSING_TORCH=1 allows skipping. */
export function requireTorch(): boolean {
  if (hasTorch()) return true;
  if (process.env['ONNXKIT_ALLOW_MISSING_TORCH'] === '1') return false;
  throw new Error(`${PYTHON} with torch and onnx is required for the float64 reference (set ONNXKIT_ALLOW_MISSING_TORCH=1 to skip)`);
}

/**
 * Evaluates `model` in float64 with PyTorch (float64_reference.py; onnxruntime has no float64
 * Conv) on `input`, returning the first output as float64 values.
 */
export function float64Reference(model: Model, input: Tensor): Float64Array {
  const dir = mkdtempSync(join(tmpdir(), 'onnxkit-f64-'));
  try {
    writeFileSync(join(dir, 'model.onnx'), encode(model));
    writeNpy(join(dir, 'x.npy'), input);
    execFileSync(PYTHON, [join(dirname(fileURLToPath(import.meta.url)), 'float64_reference.py'), join(dir, 'model.onnx'), join(dir, 'x.npy'), join(dir, 'y.npy')], { stdio: ['ignore', 'ignore', 'pipe'] });
    return readNpy(join(dir, 'y.npy')).toFloat64();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Max and mean absolute error of `x` against `ref`. */
export function absErrors(x: Float64Array, ref: Float64Array): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const e = Math.abs(x[i]! - ref[i]!);
    if (e > max) max = e;
    sum += e;
  }
  return { max, mean: sum / x.length };
}
