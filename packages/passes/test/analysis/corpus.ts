/**
 * Test helper: the ONNX backend test corpus (Debian's libonnx-testdata). Finds it, or fails
 * with instructions unless ONNXKIT_ALLOW_MISSING_CORPUS=1 allows skipping explicitly.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeTensorProto } from '@onnxkit/importer';
import { DataType, Tensor, type Model } from '@onnxkit/graph';

export const CORPUS_ROOT = '/usr/share/libonnx-testdata/data';
export const NODE_CORPUS = join(CORPUS_ROOT, 'node');

/** True when the corpus is present; throws a clear error when it is absent and skipping is not allowed. */
export function corpusAvailable(): boolean {
  if (existsSync(NODE_CORPUS)) return true;
  if (process.env.ONNXKIT_ALLOW_MISSING_CORPUS === '1') return false;
  throw new Error(
    `the ONNX backend test corpus is missing (${NODE_CORPUS}): install it with \`apt-get install libonnx-testdata\`, ` +
      'or set ONNXKIT_ALLOW_MISSING_CORPUS=1 to skip these tests explicitly',
  );
}

export function nodeTests(): string[] {
  return corpusTests(NODE_CORPUS);
}

/** Test folders (with a model.onnx) under one corpus folder, sorted. */
export function corpusTests(dir: string): string[] {
  return readdirSync(dir)
    .filter((d) => d.startsWith('test_') && existsSync(join(dir, d, 'model.onnx')))
    .sort();
}

/**
 * The tensors of `input_*.pb` / `output_*.pb` in test_data_set_0, by index. ONNX 1.12's test
 * generator stored bfloat16 tensors as uint16 TensorProtos; given the model, such a tensor is
 * reinterpreted (same bits) as the bfloat16 the model declares for that input/output.
 */
export function testTensors(test: string, kind: 'input' | 'output', model?: Model, root = NODE_CORPUS): (Tensor | undefined)[] {
  const dir = join(root, test, 'test_data_set_0');
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir).filter((f) => f.startsWith(`${kind}_`) && f.endsWith('.pb'));
  const out: (Tensor | undefined)[] = [];
  for (const f of files) {
    const k = Number(f.slice(kind.length + 1, -3));
    try {
      out[k] = decodeTensorProto(readFileSync(join(dir, f)));
    } catch {
      // Sequence/optional .pb files are not TensorProtos; those outputs are not compared.
      out[k] = undefined;
    }
  }
  if (model) {
    const declared = kind === 'input' ? model.graph.inputs.filter((v) => !v.isInitializer) : model.graph.outputs;
    out.forEach((t, k) => {
      if (t && t.dtype === DataType.UINT16 && declared[k]?.dtype === DataType.BFLOAT16) out[k] = Tensor.fromBytes(DataType.BFLOAT16, t.dims, t.bytes());
    });
  }
  return out;
}
