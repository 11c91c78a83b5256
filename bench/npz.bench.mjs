// .npz reading and writing: the hand-written zip container (node:zlib for deflate, our CRC-32)
// against fflate 0.8.3 (browser-safe, maintained), on the same tensors, interleaved A B A B.
// Each row is fflate time / onnxkit time: above 1.00 the hand-written one wins. The .npy part
// (header + bytes) is shared, so only the zip layer differs. Issue 14.4 asks for this number.
import { unzipSync, zipSync } from 'fflate';
import { DataType, Tensor } from '@onnxkit/graph';
import { decodeNpy, decodeNpz, encodeNpy, encodeNpz } from '@onnxkit/runtime';
import { fmtMs, row, section, timePair } from './lib.mjs';

function tensors(count, elements, seed) {
  const out = {};
  let s = seed;
  for (let i = 0; i < count; i++) {
    const v = new Float32Array(elements);
    // Half random, half repeated: real activations compress somewhat, random weights barely.
    for (let j = 0; j < elements; j++) {
      s = (s * 1664525 + 1013904223) >>> 0;
      v[j] = j % 2 ? s / 2 ** 32 : 0.5;
    }
    out[`t${i}`] = Tensor.fromNumbers(DataType.FLOAT, [elements], v);
  }
  return out;
}

const viaFflateEncode = (ts, level) => zipSync(Object.fromEntries(Object.entries(ts).map(([k, t]) => [`${k}.npy`, [encodeNpy(t), { level }]])));
const viaFflateDecode = (bytes) => {
  const out = new Map();
  for (const [k, v] of Object.entries(unzipSync(bytes))) out.set(k.replace(/\.npy$/, ''), decodeNpy(v, k));
  return out;
};

export default async function () {
  section('.npz zip layer: fflate / hand-written (above 1.00: the hand-written one is faster)');
  const cases = [
    ['8 × 4 MiB float32', tensors(8, 1 << 20, 1)],
    ['200 × 4 KiB float32 (many small outputs)', tensors(200, 1024, 2)],
  ];
  for (const [label, ts] of cases) {
    for (const compress of [false, true]) {
      const kind = compress ? 'deflated' : 'stored';
      const ours = encodeNpz(ts, { compress });
      const theirs = viaFflateEncode(ts, compress ? 6 : 0);
      // Each side reads the other's file too, so the formats agree.
      if (decodeNpz(theirs).size !== Object.keys(ts).length || viaFflateDecode(ours).size !== Object.keys(ts).length) throw new Error('npz formats disagree');
      const w = await timePair(() => encodeNpz(ts, { compress }), () => viaFflateEncode(ts, compress ? 6 : 0), { runs: 5 });
      row(`write ${label}, ${kind}`, `${w.ratio.toFixed(2)}×`, `fflate ${fmtMs(w.b)} / onnxkit ${fmtMs(w.a)}; ${(ours.byteLength / 2 ** 20).toFixed(1)} vs ${(theirs.byteLength / 2 ** 20).toFixed(1)} MiB`);
      const r = await timePair(() => decodeNpz(ours), () => viaFflateDecode(ours), { runs: 5 });
      row(`read ${label}, ${kind}`, `${r.ratio.toFixed(2)}×`, `fflate ${fmtMs(r.b)} / onnxkit ${fmtMs(r.a)}`);
    }
  }
}
