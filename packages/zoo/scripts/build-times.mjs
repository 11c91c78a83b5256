// Prints how long each zoo builder takes and the totals it produces (parameters counted from
// the initializers). Build first: `npx tsc -b packages/zoo`; run: `node packages/zoo/scripts/build-times.mjs`.
// Each model is built once cold (first call in this process) and then `RUNS` times warm.
import { ZOO_MODELS, buildZooModel } from '../dist/index.js';

const RUNS = Number(process.env.RUNS ?? 3);
const options = { transformer: { layers: 12, dModel: 768, heads: 12, seqLen: 128, vocab: 30522 } };

function totals(m) {
  let learnable = 0;
  let buffers = 0;
  for (const v of m.graph.initializers.values()) {
    const bn = v.uses.some((u) => u.node.opType === 'BatchNormalization' && u.index >= 3);
    if (bn) buffers += v.constValue.size;
    else learnable += v.constValue.size;
  }
  return { learnable, buffers };
}

const fmt = (n) => n.toLocaleString('en-US');
console.log('model        cold ms  warm ms (median)  nodes  initializers  learnable params  BN buffers');
for (const { name } of ZOO_MODELS) {
  const o = options[name] ?? {};
  let t0 = performance.now();
  const m = buildZooModel(name, o);
  const cold = performance.now() - t0;
  const warm = [];
  for (let i = 0; i < RUNS; i++) {
    t0 = performance.now();
    buildZooModel(name, o);
    warm.push(performance.now() - t0);
  }
  warm.sort((a, b) => a - b);
  const t = totals(m);
  console.log(
    `${name.padEnd(12)} ${cold.toFixed(0).padStart(7)}  ${warm[Math.floor(warm.length / 2)].toFixed(0).padStart(16)}  ${String(m.graph.nodeCount).padStart(5)}  ${String(m.graph.initializers.size).padStart(12)}  ${fmt(t.learnable).padStart(16)}  ${fmt(t.buffers).padStart(10)}`,
  );
}
for (const weights of ['zeros', 'lazy']) {
  const o = { layers: 8, dModel: 4096, heads: 32, vocab: 32000, batch: 'N', seqLen: 'S', causal: true, ...(weights === 'lazy' ? { lazy: true } : { weights }) };
  const t0 = performance.now();
  const m = buildZooModel('transformer', o);
  const ms = performance.now() - t0;
  const bytes = [...m.graph.initializers.values()].reduce((s, v) => s + v.constValue.byteLength, 0);
  console.log(`transformer 8×4096, vocab 32000, weights ${weights}: ${ms.toFixed(0)} ms for ${(bytes / 2 ** 30).toFixed(2)} GiB of parameters, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
}
