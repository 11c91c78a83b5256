// A/B of whole `onnxkit optimize` processes between built checkouts, alternating so that the
// machine's state (this one is shared and noisy) falls on both sides alike: the comparison the
// performance log's before/after figures come from.
//
//   node bench/ab.mjs N FILE label=/path/to/checkout label2=/path/to/other ... [-- optimize flags]
//
// Runs `onnxkit optimize FILE -o OUT --no-ort-fold <flags>` N times per checkout (default flags:
// --json), in the order a, b, then b, a, ..., each under /usr/bin/time, and prints per label the
// median CPU (user + sys, what the µs-per-node target counts), wall time and peak RSS,
// with every CPU sample. Each checkout must be built (`pnpm -s build`; for an older commit:
// `git worktree add --detach DIR REV && cd DIR && pnpm install --frozen-lockfile --offline &&
// pnpm -s build`). FILE may be `chain:N` or `chain:N:shared` for bench/rules.bench.mjs's
// MatMul/Add/Relu/Identity/Mul chain of N nodes (shared: one weight and bias for every block,
// issue 15's kind of file), written once to the system's temporary folder.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeChain } from './rules.bench.mjs';

const args = process.argv.slice(2);
const dd = args.indexOf('--');
const flags = dd >= 0 ? args.slice(dd + 1) : ['--json'];
const [n, fileArg, ...labels] = dd >= 0 ? args.slice(0, dd) : args;
if (!(Number(n) > 0) || !fileArg || labels.length === 0 || labels.some((l) => !l.includes('='))) {
  console.error('usage: node bench/ab.mjs N FILE|chain:N[:shared] label=/checkout ... [-- optimize flags]');
  process.exit(2);
}
const chain = /^chain:(\d+)(:shared)?$/.exec(fileArg);
if (!chain && !existsSync(fileArg)) {
  console.error(`no such file: ${fileArg}`);
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'onnxkit-ab-'));
const file = chain ? join(dir, `chain-${chain[1]}${chain[2] ? '-shared' : ''}.onnx`) : fileArg;
if (chain) await writeChain(Number(chain[1]), file, { shared: chain[2] !== undefined });

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const res = Object.fromEntries(labels.map((l) => [l.split('=')[0], { cpu: [], wall: [], rss: [] }]));
try {
  for (let i = 0; i < Number(n); i++) {
    for (const l of i % 2 ? [...labels].reverse() : labels) {
      const [name, root] = l.split('=');
      const out = join(dir, `${name}.onnx`);
      const cli = join(root, 'packages/cli/bin/onnxkit.js');
      const r = spawnSync('/usr/bin/time', ['-f', '%U %S %e %M', process.execPath, cli, 'optimize', file, '-o', out, '--no-ort-fold', ...flags], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30 });
      if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`);
      const [u, s, e, m] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
      res[name].cpu.push(u + s);
      res[name].wall.push(e);
      res[name].rss.push(m / 1024);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
for (const [name, r] of Object.entries(res)) {
  console.log(`${name.padEnd(8)} CPU ${median(r.cpu).toFixed(3)} s [${r.cpu.map((x) => x.toFixed(2)).join(' ')}]  wall ${median(r.wall).toFixed(3)} s  RSS ${median(r.rss).toFixed(0)} MiB`);
}
