// Fuzzing throughput (issue 7): cases per second of the fuzz harness (fuzz/run.mjs) on the small
// seeds (≤ 64 KiB: the small fixtures, builder graphs, small zoo and corpus models) for import
// alone — target ≥ 1,000 cases/s — and with analyze and with the default optimize pipeline on
// every decoded case. One fuzz process each, so the numbers are per core; the baseline measured
// in this run is a plain decode → encode → decode of the same small models, unmutated, from the
// built packages: the ratio is what mutation, checking and measuring cost on top.
//
// The harness itself is TypeScript run through fuzz/ts-loader (it is not part of the build), so
// the fuzz processes run the packages' sources, transpiled the same way as dist/.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decode, encode } from '@onnxkit/importer';
import { ROOT, fmtMs, row, section, time } from './lib.mjs';

const SECONDS = Number(process.env.ONNXKIT_BENCH_FUZZ_SECONDS ?? 15);
const SMALL = 64 * 1024;

function fuzzRun(extra) {
  const args = [join(ROOT, 'fuzz', 'run.mjs'), '--seconds', String(SECONDS), '--seed', '1', '--workers', '1', '--small-seeds', '--no-write', '--json', ...extra];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  // Exit code 1 means findings: the rate is still valid; findings are the fuzz test's business.
  if (r.status !== 0 && r.status !== 1) throw new Error(`fuzz/run.mjs failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout);
}

/** The small seed files available without the TypeScript harness: small fixtures and corpus models. */
function smallModels() {
  const files = [];
  for (const d of readdirSync(join(ROOT, 'fixtures'))) {
    const f = join(ROOT, 'fixtures', d, 'model.onnx');
    if (d !== 'large' && existsSync(f) && readFileSync(f).length <= SMALL) files.push(f);
  }
  const corpus = '/usr/share/libonnx-testdata/data/node';
  for (const t of ['test_if', 'test_loop11', 'test_scan9_sum', 'test_conv_with_strides_padding', 'test_layer_normalization_4d_axis1_expanded', 'test_gru_defaults']) {
    const f = join(corpus, t, 'model.onnx');
    if (existsSync(f)) files.push(f);
  }
  return files.map((f) => new Uint8Array(readFileSync(f)));
}

export default async function () {
  section(`fuzz: cases per second on small seeds (one process, ${SECONDS} s per row)`);
  const models = smallModels();
  const base = await time(
    () => {
      for (const b of models) decode(encode(decode(b)));
    },
    { runs: 15, warmup: 3 },
  );
  const baseRate = (models.length * 1000) / base.median;
  row('baseline: decode → encode → decode, unmutated', `${baseRate.toFixed(0)}/s`, `${models.length} models in ${fmtMs(base.median)}`);

  const rows = [
    ['import (decode + round trip)', ['--analyze-every', '0', '--optimize-every', '0'], 'import'],
    ['import + analyze on every decoded case', ['--target', 'analyze', '--optimize-every', '0'], 'analyze'],
    ['import + default optimize on every decoded case', ['--target', 'optimize', '--analyze-every', '0'], 'optimize'],
  ];
  for (const [label, extra, target] of rows) {
    const s = fuzzRun(extra);
    // Per process while running cases: start-up and any hang timeout are not throughput.
    const rate = (s.stats.cases * 1000) / s.stats.busyMs;
    const t = s.stats.targets[target];
    const phaseRate = t.runs > 0 ? (t.runs * 1000) / t.totalMs : 0;
    const note =
      target === 'import'
        ? `${s.cases} cases; import phase alone ${phaseRate.toFixed(0)}/s; ${(rate / baseRate).toFixed(2)}× the baseline (target ≥ 1,000/s: ${rate >= 1000 ? 'met' : 'MISSED'})`
        : `${s.cases} cases, ${t.runs} ${target} runs (${phaseRate.toFixed(0)}/s for the phase alone, slowest ${t.maxMs.toFixed(0)} ms)`;
    row(label, `${rate.toFixed(0)}/s`, `${note}; ${s.findings.length} finding(s)`);
  }
}
