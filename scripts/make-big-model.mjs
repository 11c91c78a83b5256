#!/usr/bin/env node
// Generates a synthetic transformer-shaped model with external weights of about `--gib` GiB
// (default 4.5: past Node's 2 GiB readFileSync limit, its 4 GiB Buffer limit and protobuf's
// 2 GiB message limit), for the big-model benchmark (bench/big-model.bench.mjs) and the CI test
// (test/integration/big-model.test.ts, ~0.3 GiB).
//
//   node scripts/make-big-model.mjs [--gib 4.5] [--out DIR] [--seed 0]
//
// The model is @onnxkit/zoo's transformer encoder with lazily generated random weights
// (xoshiro128**, regenerated tensor by tensor as they are written, so generating 4.5 GiB needs
// memory for one tensor, not for the model), saved with @onnxkit/importer's save() as
// DIR/model.onnx plus DIR/model.onnx.data. Random rather than zero weights so that no rewrite
// (initializer deduplication in particular) can shrink the model. Nothing is committed.
//
// Plain `node` runs it on the built packages (`pnpm build`); the tests run it on the TypeScript
// sources with `--conditions=source --import ./fuzz/ts-loader/register.mjs`.
import { mkdirSync, statfsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { save } from '@onnxkit/importer';
import { transformer } from '@onnxkit/zoo';

const GiB = 2 ** 30;

/**
 * The transformer configuration closest to `bytes` of float32 weights: the widest of
 * 4096/2048/1024/512/256 whose block is at most a quarter of the target, and as many blocks as
 * fit (at least one). A block holds 4·d² (attention) + 2·d·4d (FFN) weights plus 13·d biases and LayerNorm parameters.
 */
export function bigModelConfig(bytes) {
  for (const d of [4096, 2048, 1024, 512, 256]) {
    const perLayer = 4 * (12 * d * d + 13 * d);
    if (perLayer * 4 <= bytes || d === 256) {
      const layers = Math.max(1, Math.round(bytes / perLayer));
      return { dModel: d, heads: d / 64, ffn: 4 * d, layers, seqLen: 16, weightBytes: layers * perLayer };
    }
  }
  throw new Error('unreachable');
}

/** Free bytes for an unprivileged writer in the file system holding `dir`. */
export function freeBytes(dir) {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/**
 * Builds and saves the model; returns what was written. Refuses (throws, writing nothing) when
 * the file system has less than the data size plus 10% and 256 MiB free.
 */
export function makeBigModel({ gib = 4.5, out, seed = 0 } = {}) {
  if (!(gib > 0)) throw new Error(`--gib must be a positive number, got ${gib}`);
  if (!out) throw new Error('an output folder is required (--out DIR)');
  const dir = resolve(out);
  mkdirSync(dir, { recursive: true });
  const cfg = bigModelConfig(gib * GiB);
  const need = Math.ceil(cfg.weightBytes * 1.1) + 256 * 2 ** 20;
  const free = freeBytes(dir);
  if (free < need) {
    throw new Error(`make-big-model: needs ${(need / GiB).toFixed(2)} GiB free in ${dir}, only ${(free / GiB).toFixed(2)} GiB available; free some space or pass a smaller --gib / another --out`);
  }
  const t0 = performance.now();
  const model = transformer({ ...cfg, seed, lazy: true, batch: 1 });
  const path = join(dir, 'model.onnx');
  const result = save(model, path, { externalData: true });
  return {
    path,
    dataPath: result.externalFiles[0],
    bytesWritten: result.bytesWritten,
    config: cfg,
    seconds: (performance.now() - t0) / 1000,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opts = { gib: 4.5, out: undefined, seed: 0 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const v = args[i + 1];
    if (a === '--gib') opts.gib = Number(v);
    else if (a === '--out') opts.out = v;
    else if (a === '--seed') opts.seed = Number(v);
    else if (a === '-h' || a === '--help') {
      console.log('usage: node scripts/make-big-model.mjs [--gib 4.5] [--out DIR] [--seed 0]');
      process.exit(0);
    } else {
      console.error(`make-big-model: unknown option ${a}`);
      process.exit(2);
    }
    i++;
  }
  opts.out ??= join(fileURLToPath(new URL('..', import.meta.url)), '.bench-cache', `big-model-${opts.gib}gib`);
  try {
    const r = makeBigModel(opts);
    console.log(JSON.stringify(r, null, 2));
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  }
}
