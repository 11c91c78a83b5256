// Fan-out and fan-in (fifteenth round): the `default` pipeline on graphs where one value has N
// readers or one node N inputs must cost time linear in N. Before the round, eliminate-dead-code
// walked every use of a shared input once per removed reader (100k dead readers: 148 s as a whole
// `optimize`), and a Concat reading one value at 10k inputs took minutes (docs/performance-log.md).
// Rows: the in-process pipeline (`PassManager.run`, CPU of this process, median of 3) at N = 25k and
// 100k, and the ratio of the per-node cost at 100k to that at 25k measured in the same run: ≈ 1
// when linear, below it while fixed costs weigh on 25k, ≈ 4 for a quadratic path.
// `node --expose-gc bench/fan.bench.mjs [--root DIR]` (after `pnpm -s build`).
import { fileURLToPath } from 'node:url';
import { ROOT, builtPackage, cpuMs, fmtMs, median, ratio, row, section } from './lib.mjs';

const SMALL = 25_000;
const LARGE = 100_000;

/** The graphs, each of about `n` nodes besides its one live path x → Relu → y. */
const KINDS = {
  // Half Add(x, w) of one shared initializer, half Relu(x): all dead (eliminate-dead-code).
  'dead readers of one initializer': (G, b, x, n) => {
    const w = b.constant('w', G.Tensor.fromArray(G.DataType.FLOAT, [16], new Float32Array(16).fill(0.5)));
    for (let i = 0; i < n / 2; i++) {
      b.op('Add', [x, w]);
      b.op('Relu', [x]);
    }
  },
  // n equal Relu(x) into one live Concat: CSE leaves Concat(r × n), one node reading r n times.
  'Concat of n equal inputs': (G, b, x, n) => {
    const ins = [];
    for (let i = 0; i < n; i++) ins.push(b.op('Relu', [x]));
    b.output(b.op('Concat', ins, { axis: 0 }), 'c');
  },
  // A dead Concat reading x at n inputs ahead of n dead Relu(x).
  'dead Concat of n inputs, then n readers': (G, b, x, n) => {
    b.op('Concat', Array.from({ length: n / 2 }, () => x), { axis: 0 });
    for (let i = 0; i < n / 2; i++) b.op('Relu', [x]);
  },
};

async function measure(root) {
  const G = await import(builtPackage(root, 'graph', 'index.bundle.js'));
  const P = await import(builtPackage(root, 'passes'));
  const build = (kind, n) => {
    const b = new G.GraphBuilder({ name: 'fan' });
    const x = b.input('x', G.DataType.FLOAT, [1, 16]);
    b.output(b.op('Relu', [x]), 'y');
    KINDS[kind](G, b, x, n);
    return b.build();
  };
  const out = {};
  for (const kind of Object.keys(KINDS)) {
    // An untimed warm-up run: the first rows would otherwise carry the compiler's first work.
    await new P.PassManager(P.resolvePipeline('default'), {}).run(build(kind, SMALL));
    out[kind] = {};
    for (const n of [SMALL, LARGE]) {
      const times = [];
      for (let rep = 0; rep < 3; rep++) {
        const m = build(kind, n);
        globalThis.gc?.();
        const t = cpuMs();
        await new P.PassManager(P.resolvePipeline('default'), {}).run(m);
        times.push(cpuMs() - t);
      }
      out[kind][n] = median(times);
    }
  }
  return out;
}

function print(out) {
  for (const [kind, t] of Object.entries(out)) {
    row(`${kind}, ${SMALL.toLocaleString('en')}`, fmtMs(t[SMALL]));
    row(`${kind}, ${LARGE.toLocaleString('en')}`, fmtMs(t[LARGE]));
    ratio(`  per node at ${LARGE / 1000}k / at ${SMALL / 1000}k`, t[LARGE] / LARGE * SMALL, t[SMALL], { op: '<=', value: 2 });
  }
}

export default async function () {
  section('fan-out and fan-in: the default pipeline in this process (CPU, median of 3)');
  print(await measure(ROOT));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--root');
  print(await measure(i > 0 ? process.argv[i + 1] : ROOT));
}
