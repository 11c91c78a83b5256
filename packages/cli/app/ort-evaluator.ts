/**
 * The page's onnxruntime evaluator for `fold-constants`: what `onnxkit optimize` does with
 * onnxruntime-node (runtime/src/constant-evaluator.ts), done with onnxruntime-web (WASM, served
 * locally) in the app's worker. The evaluation model is the runtime's own (evaluation-model.ts,
 * browser-safe), the outputs are read back by the runtime's `fromWire`, and onnxruntime-web is
 * loaded only when a node needs it (most models fold with the TypeScript kernels alone).
 * Anything onnxruntime-web cannot do yields an empty map ("could not evaluate"), never an error.
 */
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import wasmModuleUrl from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import type { Tensor, TypedArray, Value } from '@onnxkit/graph';
import { encode } from '@onnxkit/importer/codec';
import type { ConstantEvaluator } from '@onnxkit/passes';
import type * as OrtWeb from 'onnxruntime-web/wasm';
import { evaluationModel } from '../../runtime/src/evaluation-model.js';
import { fromWire } from '../../runtime/src/wire.js';

type Ort = typeof OrtWeb;
let ortModule: Promise<Ort> | undefined;

function loadOrt(): Promise<Ort> {
  ortModule ??= import('onnxruntime-web/wasm').then((ort) => {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmPaths = { wasm: wasmUrl, mjs: wasmModuleUrl };
    ort.env.logLevel = 'fatal';
    return ort;
  });
  return ortModule;
}

/** An evaluation that takes longer is declined, and onnxruntime-web is not asked again in this worker (the page never hangs on it). */
const EVALUATION_TIMEOUT_MS = 60_000;
let unavailable: string | undefined;

export function webConstantEvaluator(onDecline?: (reason: string) => void): ConstantEvaluator {
  const decline = (reason: string): Map<Value, Tensor> => {
    onDecline?.(reason);
    return new Map();
  };
  return {
    async evaluate(nodes, inputs, opset) {
      if (nodes.length === 0) return new Map();
      if (unavailable !== undefined) return decline(unavailable);
      const built = evaluationModel(nodes, inputs, opset);
      if (typeof built === 'string') return decline(built);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`onnxruntime-web did not answer within ${EVALUATION_TIMEOUT_MS / 1000} s`), EVALUATION_TIMEOUT_MS);
      });
      try {
        const out = await Promise.race([run(built), timeout]);
        if (typeof out === 'string') {
          unavailable = out;
          return decline(out);
        }
        return out;
      } catch (e) {
        return decline(e instanceof Error ? e.message : String(e));
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

async function run(built: Exclude<ReturnType<typeof evaluationModel>, string>): Promise<Map<Value, Tensor>> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(encode(built.model), { executionProviders: ['wasm'], graphOptimizationLevel: 'disabled', logSeverityLevel: 4 });
  try {
    const out = await session.run({});
    const result = new Map<Value, Tensor>();
    for (const [orig, c] of built.produced) {
      const t = out[c.name];
      if (t !== undefined) result.set(orig, fromWire({ name: orig.name, type: t.type, dims: [...t.dims], data: t.data as TypedArray | string[] }, 'constant evaluation'));
    }
    return result;
  } finally {
    await session.release();
  }
}
