/**
 * Every kind of output onnxkit writes, produced into a folder, for test/integration/determinism.
 * test.ts, which produces them twice in its own process and once in a fresh process (this file
 * run as a script: `node --conditions=source --import fuzz/ts-loader/register.mjs
 * test/integration/determinism-artifacts.ts OUTDIR` prints the SHA-256 of each file as JSON).
 *
 * Files: `save` without and with external data (and a re-save of a lazily loaded external
 * model), zoo builders (encoded), `encode` after the `default` pipeline plus the pipeline's
 * report without its timings, analysis JSON, and .npz files of seeded inputs and onnxruntime
 * outputs.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode, encode, load, save, writeFileAtomic } from '@onnxkit/importer';
import { analysisToJson, analyzeModel, runPipeline } from '@onnxkit/passes';
import { runModel, syntheticInputs, writeNpz } from '@onnxkit/runtime';
import { alexnet, mobilenetv2, resnet50, transformer } from '@onnxkit/zoo';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (name: string): string => join(ROOT, 'fixtures', name, 'model.onnx');

/** Drops wall-clock fields (timeMs, verifyMs, … — every key ending in "Ms") so a pipeline report can be compared byte for byte. */
function withoutTimings(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (k, v: unknown) => (/Ms$/.test(k) ? undefined : typeof v === 'bigint' ? v.toString() : v)));
}

/** Writes every artifact into `dir` and returns file name → SHA-256. */
export async function produceArtifacts(dir: string): Promise<Record<string, string>> {
  mkdirSync(dir, { recursive: true });
  const put = (name: string, bytes: Uint8Array | string): void => {
    writeFileAtomic(join(dir, name), typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes);
  };

  // save: inline, and with external data (then reloaded lazily and saved again).
  save(load(fixture('resnet_tiny_bn')), join(dir, 'save-inline.onnx'));
  save(load(fixture('mobilenet_v2_035_bn')), join(dir, 'save-external.onnx'), { externalData: { sizeThreshold: 256 } });
  save(load(join(dir, 'save-external.onnx'), { lazy: true }), join(dir, 'resave-external.onnx'), { externalData: { location: 'resave.bin', align: 64 } });

  // Zoo builders.
  put('zoo-alexnet-zeros.onnx', encode(alexnet({ weights: 'zeros' })));
  put('zoo-resnet50.onnx', encode(resnet50({ seed: 3 })));
  put('zoo-mobilenetv2.onnx', encode(mobilenetv2({ widthMultiplier: 0.5, imageSize: 96, numClasses: 10, seed: 4 })));
  put('zoo-transformer.onnx', encode(transformer({ layers: 2, dModel: 64, heads: 4, seqLen: 'S', maxSeqLen: 32, vocab: 100, causal: true, seed: 5 })));

  // The default pipeline: encoded result and its report (without timings).
  const optimize = async (name: string, bytes: Uint8Array): Promise<void> => {
    const m = decode(bytes);
    const report = await runPipeline(m, 'default');
    put(`optimized-${name}.onnx`, encode(m));
    put(`optimized-${name}.report.json`, JSON.stringify(withoutTimings(report), null, 1));
  };
  for (const f of ['resnet_tiny_bn', 'mobilenet_v2_035_bn', 'transformer_encoder', 'lstm_tiny', 'loop_if']) await optimize(f, new Uint8Array(readFileSync(fixture(f))));
  await optimize('zoo-transformer', encode(transformer({ layers: 1, dModel: 32, heads: 2, seqLen: 8, seed: 6 })));

  // Analysis JSON, as analyzeModel returns it and as the formatter writes it.
  for (const f of ['resnet_tiny_bn', 'transformer_encoder', 'shufflenet_v2_x0_5']) {
    const report = analyzeModel(load(fixture(f)));
    put(`analysis-${f}.json`, JSON.stringify(report));
    put(`analysis-${f}.formatted.json`, analysisToJson(report));
  }
  put('analysis-zoo-resnet50.json', JSON.stringify(analyzeModel(resnet50({ weights: 'zeros', batch: 'N' }))));

  // npz: seeded inputs and onnxruntime-node outputs, stored and deflated.
  const model = load(fixture('resnet_tiny_bn'));
  const inputs = syntheticInputs(model, { seed: 11 });
  const outputs = await runModel(model, inputs);
  writeNpz(join(dir, 'inputs.npz'), inputs);
  writeNpz(join(dir, 'outputs.npz'), outputs);
  writeNpz(join(dir, 'outputs-deflated.npz'), outputs, { compress: true });

  const hashes: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) hashes[name] = createHash('sha256').update(readFileSync(join(dir, name))).digest('hex');
  return hashes;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) {
    process.stderr.write('usage: determinism-artifacts.ts OUTDIR\n');
    process.exit(2);
  }
  const hashes = await produceArtifacts(out);
  process.stdout.write(JSON.stringify(hashes) + '\n');
}
