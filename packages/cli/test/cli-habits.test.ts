// The CLI habits people bring from onnxsim and Polygraphy (issue 14.3), end to end on the real
// binary: positional OUT, NAME:1,3,224,224 shapes, - for stdin/stdout, --quiet, completion,
// FORCE_COLOR, folders created for -o, --explain grouping, progress lines off a terminal, and
// --dim / --input-shape on every command that takes a model.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, Tensor } from '@onnxkit/graph';
import { decode, encode, load, save } from '@onnxkit/importer';
import { BIN, cliRunner, expectOneLineError, FIXTURE } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-habits-'));
const onnxkit = cliRunner(tmp);

describe('onnxsim and Polygraphy habits', () => {
  it('optimize IN OUT works like -o OUT, and two different outputs are refused', () => {
    const a = join(tmp, 'positional.onnx');
    const b = join(tmp, 'dash-o.onnx');
    expect(onnxkit(['optimize', FIXTURE, a]).code).toBe(0);
    expect(onnxkit(['optimize', FIXTURE, '-o', b]).code).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    expectOneLineError(onnxkit(['optimize', FIXTURE, a, '-o', b]), 2, /two outputs/);
    expectOneLineError(onnxkit(['optimize', FIXTURE]), 2, /needs an output/);
  });

  it('--input-shape NAME:1,3,32,32 means the same as NAME=1x3x32x32', () => {
    const colon = JSON.parse(onnxkit(['analyze', FIXTURE, '--input-shape', 'input:2,3,64,64', '--json']).stdout);
    const eq = JSON.parse(onnxkit(['analyze', FIXTURE, '--input-shape', 'input=2x3x64x64', '--json']).stdout);
    expect(colon.totals).toEqual(eq.totals);
    expect(colon.totals.macs).toBe(2 * 5804672);
    expectOneLineError(onnxkit(['analyze', FIXTURE, '--input-shape', 'input:2,,64']), 2, /empty dimension/);
    expectOneLineError(onnxkit(['analyze', FIXTURE, '--input-shape', 'input:2,3.5']), 2, /neither a size nor a symbol.*sizes \(0 or more/);
    // (Number() rounded them: 'dimension 4611686018427388000 is not a non-negative integer')
    expectOneLineError(onnxkit(['analyze', FIXTURE, '--input-shape', 'input=4611686018427387904x3x64x64']), 2, /--input-shape 'input=4611686018427387904x3x64x64': 4611686018427387904 is beyond 2\^53/);
    expectOneLineError(onnxkit(['analyze', FIXTURE, '--dim', 'N=9007199254740993']), 2, /--dim 'N=9007199254740993': 9007199254740993 is beyond 2\^53/);
  });

  it('- is stdin and stdout: optimize - -o - < a > b equals optimize a b; inspect - reads stdin', () => {
    const bytes = readFileSync(FIXTURE);
    const file = join(tmp, 'file-out.onnx');
    expect(onnxkit(['optimize', FIXTURE, file]).code).toBe(0);
    const r = spawnSync(process.execPath, [BIN, 'optimize', '-', '-o', '-'], { input: bytes, env: { ...process.env, NO_COLOR: '' }, timeout: 120_000 });
    expect(r.status).toBe(0);
    expect(Buffer.from(r.stdout).equals(readFileSync(file))).toBe(true); // nothing but the model on stdout
    const inspect = onnxkit(['inspect', '-', '--json'], { input: bytes });
    expect(inspect.code).toBe(0);
    expect(JSON.parse(inspect.stdout).nodes).toBe(42);
    const convert = spawnSync(process.execPath, [BIN, 'convert', FIXTURE, '-o', '-'], { timeout: 60_000 });
    expect(decode(new Uint8Array(convert.stdout)).graph.nodeCount).toBe(42);
    expectOneLineError(onnxkit(['optimize', '-', '-o', '-', '--json'], { input: bytes }), 2, /--json and -o - both write to stdout/);
    expectOneLineError(onnxkit(['optimize', FIXTURE, '-o', '-', '--external-data']), 2, /cannot hold it/);
    expectOneLineError(onnxkit(['inspect', '-'], { input: Buffer.alloc(0) }), 2, /stdin is empty/);
  });

  // stdin was read with readFileSync(0) after process.stdin.isTTY had made the pipe non-blocking:
  // a writer slower than the reader (curl … | onnxkit inspect -, cat of a big file) failed with
  // 'cannot read the model from stdin: EAGAIN'; and /dev/zero was read until memory ran out, deaf
  // to SIGTERM.
  it('- reads a pipe whose writer is slow; a device on stdin is refused at once', async () => {
    const bytes = readFileSync(FIXTURE);
    const child = spawn(process.execPath, [BIN, 'inspect', '-', '--json'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exit = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    // The first half now, the rest once the CLI has surely met an empty pipe.
    child.stdin.write(bytes.subarray(0, 1000));
    await new Promise((r) => setTimeout(r, 1500));
    child.stdin.end(bytes.subarray(1000));
    expect(await exit, err).toBe(0);
    expect(JSON.parse(out).nodes).toBe(42);
    const zero = openSync('/dev/zero', 'r');
    try {
      const r = spawnSync(process.execPath, [BIN, 'inspect', '-'], { stdio: [zero, 'pipe', 'pipe'], encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
      expectOneLineError({ code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }, 2, /stdin, which is a character device/);
    } finally {
      closeSync(zero);
    }
  }, 60_000);

  it('- for a model with external data says it needs a seekable file', () => {
    const dir = mkdtempSync(join(tmp, 'ext-'));
    const m = join(dir, 'm.onnx');
    save(load(FIXTURE), m, { externalData: { sizeThreshold: 0 } });
    expectOneLineError(onnxkit(['inspect', '-'], { input: readFileSync(m) }), 2, /external data .*seekable file/);
  });

  it('--quiet prints nothing on success; --help lists -q on every command', () => {
    const r = onnxkit(['optimize', FIXTURE, join(tmp, 'quiet.onnx'), '-q']);
    expect(r).toEqual({ code: 0, signal: null, stdout: '', stderr: '' });
    const help = onnxkit(['--help']).stdout;
    const commands = [...help.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands.length).toBeGreaterThan(12);
    for (const c of commands) expect(onnxkit([c, '--help']).stdout, c).toMatch(/-q, --quiet/);
  });

  // verify checks a model with a free batch dim at N=1 and N=2 and said so ('binding 1 of 2: N=1')
  // under -q too, and before reading its flags: a bad --atol or --threads came as a second line.
  it('verify: -q prints no binding line, and a bad flag is one line before any work', () => {
    const q = onnxkit(['verify', FIXTURE, FIXTURE, '-q']);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stderr).toBe('');
    expectOneLineError(onnxkit(['verify', FIXTURE, FIXTURE, '--atol', '-1']), 2, /--atol expects a non-negative number, got '-1'/);
    expectOneLineError(onnxkit(['verify', FIXTURE, FIXTURE, '--threads', '0']), 2, /--threads expects an integer ≥ 1, got '0'/);
  });

  // verify of a B onnxruntime refuses printed 'binding 1 of 2: N=1' before the error (two lines);
  // and a truncated B got onnxruntime's 'Protobuf parsing failed', without a byte offset.
  it('verify: a B onnxruntime refuses is one error line; a malformed B is our decoder\'s error with its byte offset', () => {
    const dir = mkdtempSync(join(tmp, 'verify-b-'));
    const model = (op: string): Buffer => {
      const b = new GraphBuilder({ name: 'sym', opset: 17 });
      b.output(b.op(op, [b.input('x', DataType.FLOAT, ['N', 4])]), 'y', { kind: 'tensor', elemType: DataType.FLOAT, shape: ['N', 4] });
      return Buffer.from(encode(b.build()));
    };
    writeFileSync(join(dir, 'a.onnx'), model('Relu'));
    writeFileSync(join(dir, 'unknown-op.onnx'), model('NoSuchOperator'));
    const bytes = model('Relu');
    writeFileSync(join(dir, 'truncated.onnx'), bytes.subarray(0, bytes.length - 7));
    const refused = onnxkit(['verify', join(dir, 'a.onnx'), join(dir, 'unknown-op.onnx')]);
    expectOneLineError(refused, 2, /unknown-op\.onnx: onnxruntime cannot load the model/);
    expect(refused.stderr).toMatch(/^✔ binding 1 of 2 \(N=1\): loading /m);
    for (const args of [['verify', join(dir, 'a.onnx'), join(dir, 'truncated.onnx')], ['verify', join(dir, 'a.onnx'), join(dir, 'truncated.onnx'), '--dim', 'N=3'], ['run', join(dir, 'truncated.onnx')]]) {
      const r = onnxkit(args);
      expectOneLineError(r, 2, /truncated\.onnx: .* \(at byte \d+, in [A-Za-z.]+\).*truncated or corrupt/);
      expect(r.stderr).not.toMatch(/Protobuf parsing failed/);
    }
  });

  it('completion bash|zsh|fish prints a script naming every command; bash parses it', () => {
    const bash = onnxkit(['completion', 'bash']);
    expect(bash.code).toBe(0);
    for (const c of ['inspect', 'optimize', 'analyze', 'completion']) expect(bash.stdout).toContain(c);
    expect(bash.stdout).toContain('--input-shape');
    writeFileSync(join(tmp, 'c.bash'), bash.stdout);
    const words = execFileSync('bash', ['-c', `source ${join(tmp, 'c.bash')}; COMP_WORDS=(onnxkit optimize --expl); COMP_CWORD=2; _onnxkit; echo "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
    expect(words.trim()).toBe('--explain');
    expect(onnxkit(['completion', 'zsh']).stdout).toMatch(/^#compdef onnxkit/);
    expect(onnxkit(['completion', 'fish']).stdout).toMatch(/complete -c onnxkit -n __fish_use_subcommand -a optimize/);
    expectOneLineError(onnxkit(['completion', 'tcsh']), 2, /^onnxkit: <shell> 'tcsh' is not one of bash, zsh, fish$/);
  });

  it('FORCE_COLOR colours piped output; NO_COLOR, --no-color and --json never', () => {
    expect(onnxkit(['analyze', FIXTURE], { env: { FORCE_COLOR: '1' } }).stdout).toContain('\u001b[');
    expect(onnxkit(['analyze', FIXTURE]).stdout).not.toContain('\u001b[');
    expect(onnxkit(['analyze', FIXTURE], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } }).stdout).not.toContain('\u001b[');
    expect(onnxkit(['analyze', FIXTURE, '--no-color'], { env: { FORCE_COLOR: '1' } }).stdout).not.toContain('\u001b[');
    expect(onnxkit(['analyze', FIXTURE, '--json'], { env: { FORCE_COLOR: '1' } }).stdout).not.toContain('\u001b[');
  });

  it('-o into folders that do not exist creates them, for every command that writes', () => {
    const base = join(tmp, 'made', 'by');
    expect(onnxkit(['optimize', FIXTURE, '-o', join(base, 'optimize', 'x.onnx'), '-q']).code).toBe(0);
    expect(onnxkit(['convert', FIXTURE, '-o', join(base, 'convert', 'x.onnx'), '-q']).code).toBe(0);
    expect(onnxkit(['zoo', 'alexnet', '-o', join(base, 'zoo', 'x.onnx'), '-q']).code).toBe(0);
    expect(onnxkit(['analyze', FIXTURE, '-o', join(base, 'analyze', 'x.txt')]).code).toBe(0);
    for (const c of ['optimize', 'convert', 'zoo']) expect(existsSync(join(base, c, 'x.onnx')), c).toBe(true);
    expect(existsSync(join(base, 'analyze', 'x.txt'))).toBe(true);
    expect(onnxkit(['optimize', '--help']).stdout).toMatch(/missing folders are created/);
  });

  it('--explain groups repeated declines with a count and no "(run with --explain" hint; =changes shows only changes', () => {
    const all = onnxkit(['optimize', FIXTURE, join(tmp, 'explain.onnx'), '--explain']).stdout;
    expect(all).toMatch(/✗ Conv ×11 \[.*…\]: no-finer-grouping/);
    expect(all).not.toContain('(run with --explain');
    const changes = onnxkit(['optimize', FIXTURE, join(tmp, 'explain.onnx'), '--explain=changes']).stdout;
    expect(changes).toContain('✓ conv+bn');
    expect(changes).not.toContain('✗');
    expect(changes).not.toContain('declined 1');
    expect(onnxkit(['optimize', FIXTURE, join(tmp, 'explain.onnx')]).stdout).toContain('(run with --explain');
    expectOneLineError(onnxkit(['optimize', FIXTURE, join(tmp, 'explain.onnx'), '--explain=bogus']), 2, /^onnxkit: --explain 'bogus' is not one of all, changes$/);
    expectOneLineError(onnxkit(['optimize', FIXTURE, join(tmp, 'explain.onnx'), '--verify-each', 'sometimes']), 2, /^onnxkit: --verify-each 'sometimes' is not one of off, pass, change$/);
  });

  it('progress goes to stderr as one line per step when stderr is not a terminal', () => {
    const r = onnxkit(['optimize', FIXTURE, join(tmp, 'progress.onnx')]);
    const steps = r.stderr.trim().split('\n');
    expect(steps.map((l) => l.replace(/ [—(].*$/, ''))).toEqual(['✔ import ' + FIXTURE, '✔ analyze', '✔ optimize', '✔ analyze', '✔ write ' + join(tmp, 'progress.onnx')]);
    expect(r.stderr).not.toContain('\r');
    expect(onnxkit(['optimize', FIXTURE, join(tmp, 'progress.onnx')], { env: { ONNXKIT_PROGRESS: '0' } }).stderr).toBe('');
  });

  it('bench: the progress label and the bar count the same thing as the result', () => {
    const r = onnxkit(['bench', FIXTURE, '--vs', FIXTURE, '--iterations', '4', '--warmup', '1', '--dim', 'N=1']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/✔ time .* \(4 pairs\)/);
    expect(r.stdout).toMatch(/median of 4 interleaved pair ratios/);
  });

  it('--dim and --input-shape reach every command that takes a model', () => {
    const a = JSON.parse(onnxkit(['analyze', FIXTURE, '--dim', 'N=3', '--json']).stdout);
    expect(a.totals.macs).toBe(3 * 5804672);
    const o = JSON.parse(onnxkit(['optimize', FIXTURE, join(tmp, 'dim.onnx'), '--dim', 'N=2', '--json']).stdout);
    expect(o.before.macs).toBe(2 * 5804672);
    const v = onnxkit(['verify', FIXTURE, FIXTURE, '--dim', 'N=2', '--json']);
    expect(v.code).toBe(0);
    expect(JSON.stringify(JSON.parse(v.stdout))).toMatch(/\[2,/);
    const run = onnxkit(['run', FIXTURE, '--input-shape', 'input:1,3,64,64', '--json']);
    expect(run.code).toBe(0);
    expectOneLineError(onnxkit(['verify', FIXTURE, FIXTURE, '--input-shape', 'input=N,3,64,64']), 2, /must be a number to run the model/);
    for (const c of ['analyze', 'optimize', 'verify', 'bench', 'report', 'demo', 'batch', 'run']) {
      const help = onnxkit([c, '--help']).stdout;
      expect(help, c).toContain('--dim <symbol=n>');
      expect(help, c).toContain('--input-shape <name=dims>');
    }
  });

  it('batch: a worker that crashes fails only its model; the pool replaces it and the batch goes on', () => {
    const dir = mkdtempSync(join(tmp, 'crash-'));
    for (const n of ['a', 'b', 'crash-me', 'c', 'd']) save(load(FIXTURE), join(dir, `${n}.onnx`));
    const r = onnxkit(['batch', dir, '--json', '--jobs', '2'], { env: { ONNXKIT_BATCH_TEST_CRASH: 'crash-me.onnx' } });
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as { rows: { file: string; ok: boolean; error: string | null; macs?: number }[] };
    expect(j.rows.map((x) => [x.file, x.ok])).toEqual([['a.onnx', true], ['b.onnx', true], ['c.onnx', true], ['crash-me.onnx', false], ['d.onnx', true]]);
    expect(j.rows.find((x) => x.file === 'crash-me.onnx')!.error).toMatch(/^worker crashed: simulated crash/);
    expect(j.rows.filter((x) => x.ok).every((x) => x.macs === 5_804_672)).toBe(true);
  });

  // batch walked regular files only: a symlinked model (a Hugging Face snapshot links model.onnx
  // to a blob) was skipped without a word ('no .onnx files under' for a snapshot folder).
  it('batch: a symlinked model is analyzed; a dangling or looping link named .onnx is a failed row saying why', () => {
    const dir = mkdtempSync(join(tmp, 'snapshot-'));
    const blobs = mkdtempSync(join(tmp, 'blobs-'));
    writeFileSync(join(blobs, 'a1b2c3'), readFileSync(FIXTURE));
    symlinkSync(join(blobs, 'a1b2c3'), join(dir, 'model.onnx'));
    symlinkSync('missing.onnx', join(dir, 'dangling.onnx'));
    symlinkSync('loop-b.onnx', join(dir, 'loop-a.onnx'));
    symlinkSync('loop-a.onnx', join(dir, 'loop-b.onnx'));
    symlinkSync(blobs, join(dir, 'folder.onnx')); // a link to a folder: neither walked nor a model
    const r = onnxkit(['batch', dir, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const rows = (JSON.parse(r.stdout) as { rows: { file: string; ok: boolean; error: string | null; macs?: number }[] }).rows;
    expect(rows.map((x) => [x.file, x.ok])).toEqual([['dangling.onnx', false], ['loop-a.onnx', false], ['loop-b.onnx', false], ['model.onnx', true]]);
    // (it said 'no such file' of a name `ls` lists)
    expect(rows[0]!.error).toMatch(/it is a symbolic link to 'missing\.onnx', which does not exist \(point the link at the real file\)/);
    expect(rows[1]!.error).toMatch(/a loop of symbolic links/);
    expect(rows[3]!.macs).toBe(5_804_672);
  });

  // A FIFO (or device, socket) named .onnx was skipped without a word. It is a failed row saying
  // what it is; the worker's load() stats it and never opens it (opening would wait for a writer:
  // the run would hang). The test never reads the FIFO, and the run has a timeout.
  it('batch: a FIFO named .onnx, or a link to a device, is a failed row saying what it is, never opened', () => {
    const dir = mkdtempSync(join(tmp, 'special-'));
    writeFileSync(join(dir, 'model.onnx'), readFileSync(FIXTURE));
    execFileSync('mkfifo', [join(dir, 'pipe.onnx')]);
    symlinkSync('pipe.onnx', join(dir, 'pipe-link.onnx'));
    symlinkSync('/dev/null', join(dir, 'null.onnx'));
    const r = onnxkit(['batch', dir, '--json'], { timeout: 60_000 });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(1);
    const rows = (JSON.parse(r.stdout) as { rows: { file: string; ok: boolean; error: string | null }[] }).rows;
    expect(rows.map((x) => [x.file, x.ok])).toEqual([['model.onnx', true], ['null.onnx', false], ['pipe-link.onnx', false], ['pipe.onnx', false]]);
    expect(rows[1]!.error).toMatch(/null\.onnx: is not a regular file \(a character device\); refusing to read it$/);
    expect(rows[2]!.error).toMatch(/pipe-link\.onnx: is not a regular file \(a FIFO\); refusing to read it$/);
    expect(rows[3]!.error).toMatch(/pipe\.onnx: is not a regular file \(a FIFO\); refusing to read it$/);
  });
});

describe('optimize loads onnxruntime only when it is used', () => {
  it('a constant Det (no TypeScript kernel) is folded through onnxruntime, loaded at its first use; --no-ort-fold leaves it', async () => {
    const { DataType, GraphBuilder, Tensor } = await import('@onnxkit/graph');
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2, 2]);
    const det = b.op('Det', [b.constant('c', Tensor.fromArray(DataType.FLOAT, [2, 2], Float32Array.of(1, 2, 3, 4.5)))]);
    b.output(b.op('Add', [x, det]), 'out');
    const file = join(tmp, 'det.onnx');
    save(b.build(), file);
    const hist = (extra: string[]) => {
      const r = onnxkit(['optimize', file, join(tmp, 'det.opt.onnx'), '--passes', 'fold-constants', '--json', ...extra]);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { after: { opHistogram: Record<string, number> } }).after.opHistogram;
    };
    expect(hist([])).toEqual({ Add: 1 });
    // det([[1, 2], [3, 4.5]]) = -1.5, now a constant input of the Add.
    expect(load(join(tmp, 'det.opt.onnx')).graph.nodes[0]!.inputs[1]!.constValue!.toFloat64()[0]).toBeCloseTo(-1.5, 6);
    expect(hist(['--no-ort-fold'])).toEqual({ Add: 1, Det: 1 });
  });
});

// The audit of issue 15.4: commander's usage errors came as two or three lines ("error: …",
// "(Did you mean …?)", "(run with --help for usage)"), in other words than the CLI's own ("is
// not one of"); `--bits 65` was refused without naming the flag; `bench --device foo` exited 0,
// `demo --device foo` failed only after the import, `--dim Q=3` was accepted and did nothing.
describe('usage errors: one line that names the flag and says what to do, exit 2', () => {
  const usage = (args: string[], pattern: RegExp): void => {
    const r = onnxkit(args);
    expectOneLineError(r, 2, pattern);
    // Not even a progress line: a usage error is found before any work.
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  };

  it("commander's errors in the CLI's words, a suggestion folded into the line", () => {
    usage(['analyze', FIXTURE, '--input-shap', 'input=1x3x8x8'], /^onnxkit: unknown option '--input-shap' for onnxkit analyze: did you mean --input-shape\?$/);
    usage(['analyze', FIXTURE, '--frobnicate'], /^onnxkit: unknown option '--frobnicate' for onnxkit analyze: `onnxkit analyze --help` lists its options$/);
    usage(['anlyze', FIXTURE], /^onnxkit: unknown command 'anlyze': did you mean analyze\?$/);
    usage(['--frobnicate'], /^onnxkit: unknown option '--frobnicate' for onnxkit: `onnxkit --help` lists the commands and global options$/);
    usage(['bench', FIXTURE, '--ort-opt', 'max'], /^onnxkit: --ort-opt 'max' is not one of disabled, basic, extended, all$/);
    usage(['analyze', FIXTURE, '--device'], /^onnxkit: --device needs a value: --device <name>$/);
    usage(['convert', FIXTURE], /^onnxkit: onnxkit convert needs --output <file>: usage: onnxkit convert \[options\] <input>$/);
    usage(['inspect', FIXTURE, FIXTURE], /^onnxkit: too many arguments for onnxkit inspect \(2, it takes 1\): usage: onnxkit inspect \[options\] <model>$/);
  });

  // An empty path (an unset shell variable: -o "$OUT") ran the whole job: optimize -o '' then said the
  // current folder 'is a folder', analyze -o '' 'cannot rename the temporary file into place: the
  // folder does not exist', and demo --out '' wrote its five files into the current folder.
  it('an empty path, argument or option, is refused before any work, naming it', () => {
    const dir = mkdtempSync(join(tmp, 'empty-'));
    const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '' }, timeout: 120_000 });
    const cases: [string[], RegExp][] = [
      [['optimize', FIXTURE, '-o', ''], /^onnxkit: -o is empty \(is a shell variable unset\?\)$/],
      [['optimize', FIXTURE, ''], /^onnxkit: <output> is empty/],
      [['analyze', FIXTURE, '-o', ''], /^onnxkit: -o is empty/],
      [['report', FIXTURE, '-o', ''], /^onnxkit: -o is empty/],
      [['demo', FIXTURE, '--out', ''], /^onnxkit: --out is empty/],
      [['analyze', ''], /^onnxkit: <model> is empty/],
      [['verify', FIXTURE, ''], /^onnxkit: <b> is empty/],
      [['run', FIXTURE, '--inputs', ''], /^onnxkit: --inputs is empty/],
      [['convert', FIXTURE, '-o', join(dir, 'x.onnx'), '--external-data', ''], /^onnxkit: --external-data is empty/],
    ];
    for (const [args, pattern] of cases) {
      const r = run(args);
      expectOneLineError({ code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }, 2, pattern);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('numbers and choices are checked by commander, naming the flag', () => {
    usage(['analyze', FIXTURE, '--bits', '65'], /^onnxkit: --bits expects an integer from 1 to 64, got '65'$/);
    usage(['analyze', FIXTURE, '--training-batch', '0'], /^onnxkit: --training-batch expects an integer ≥ 1, got '0'$/);
    usage(['bench', FIXTURE, '--iterations', 'many'], /^onnxkit: --iterations expects an integer ≥ 1, got 'many'$/);
    usage(['run', FIXTURE, '--seed', '-1'], /^onnxkit: --seed expects an integer ≥ 0, got '-1'$/);
    usage(['verify', FIXTURE, FIXTURE, '--min-sqnr', 'loud'], /^onnxkit: --min-sqnr expects a number, got 'loud'$/);
    usage(['verify', FIXTURE, FIXTURE, '--bench', '0'], /^onnxkit: --bench expects an integer ≥ 1, got '0'$/);
    usage(['zoo', 'alexnet', '-o', join(tmp, 'z.onnx'), '--batch', '2x'], /^onnxkit: --batch '2x' is neither a size nor a symbol$/);
    usage(['serve', '--port', '70000'], /^onnxkit: --port expects an integer from 0 to 65535, got '70000'$/);
    usage(['batch', tmp, '--jobs', '100000'], /^onnxkit: --jobs expects an integer from 1 to 256, got '100000'$/);
    usage(['quantize', FIXTURE, '-o', join(tmp, 'q.onnx'), '--activation-type', 'int4'], /^onnxkit: --activation-type 'int4' is not one of uint8, int8$/);
    usage(['optimize', FIXTURE, join(tmp, 'p.onnx'), '--preset', 'fast'], /^onnxkit: --preset 'fast' is not one of default, edge$/);
    usage(['demo', '--preset', 'fast', '--out', join(tmp, 'demo-preset')], /^onnxkit: --preset 'fast' is not one of default, edge$/);
  });

  // A --tolerance for a name that is not an output of the models applied to nothing: a typo was
  // verified with the default tolerance, exit 0.
  it('verify --tolerance must name an output, before any run', () => {
    usage(['verify', FIXTURE, FIXTURE, '--tolerance', 'ouptut=1e-3:1e-2'], /^onnxkit: --tolerance names 'ouptut', which is not an output of .*model\.onnx \(its outputs: output\) \(name an output as `onnxkit inspect` lists it\)$/);
    usage(['verify', FIXTURE, FIXTURE, '--tolerance', 'output=1e-3:', '--tolerance', 'logits=1:1', '--inputs', join(tmp, 'absent.npy')], /^onnxkit: --tolerance names 'logits'/);
    const ok = onnxkit(['verify', FIXTURE, FIXTURE, '--tolerance', 'output=1e-3:1e-2', '--dim', 'N=1', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).tolerance.perOutput).toEqual({ output: { atol: 1e-3, rtol: 1e-2 } });
  });

  it('a bad --device is refused before any work; bench refuses --device without --profile', () => {
    usage(['bench', FIXTURE, '--device', 'foo'], /^onnxkit: --device applies to --profile/);
    usage(['bench', FIXTURE, '--profile', '--device', 'foo'], /^onnxkit: --device 'foo' is not one of jetson-agx-orin, raspberry-pi-4, h100-sxm, local, nor a profile \.json$/);
    const out = join(tmp, 'demo-device');
    usage(['demo', '--device', 'foo', '--out', out], /^onnxkit: --device 'foo' is not one of /);
    expect(existsSync(out)).toBe(false);
  });

  it('demo with a model it refuses leaves no --out folder behind', () => {
    const bad = join(tmp, 'demo-garbage.onnx');
    writeFileSync(bad, 'not a model');
    const out = join(tmp, 'demo-refused');
    expectOneLineError(onnxkit(['demo', bad, '--out', out, '--no-quantize']), 2, /^onnxkit: .*demo-garbage\.onnx/);
    expect(existsSync(out)).toBe(false);
  });

  it('--dim naming a symbol the model does not use is refused, naming the symbols it has', () => {
    const symbols = /^onnxkit: --dim names 'Q', which no graph input uses \(the model's symbolic dims are: N\)/;
    for (const args of [['analyze', FIXTURE], ['run', FIXTURE], ['bench', FIXTURE, '--iterations', '1'], ['verify', FIXTURE, FIXTURE], ['optimize', FIXTURE, join(tmp, 'dim.onnx')], ['report', FIXTURE, '-o', join(tmp, 'dim.html')]]) {
      usage([...args, '--dim', 'Q=3'], symbols);
    }
    // A symbol --input-shape introduces is the model's too.
    expect(onnxkit(['analyze', FIXTURE, '--input-shape', 'input=B,3,64,64', '--dim', 'B=2', '--json']).code).toBe(0);
  });

  it('bench --help states its --device default once', () => {
    const help = onnxkit(['bench', '--help']).stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(/\(default: local; with --profile\)/);
    expect(help).not.toMatch(/\(default: "local"\)/);
  });
});

describe('optimize names what it cannot mend', () => {
  it("warns of a malformed input node (Gemm's alpha as INT) on stderr, not with -q, and still writes the model", () => {
    // A builder's bare `alpha: 1` is an INT attribute (toAttribute follows the JS type): onnxruntime
    // refuses the model; optimize wrote it back without a word before.
    const b = new GraphBuilder({ name: 'int-alpha' });
    const x = b.input('x', DataType.FLOAT, [2, 4]);
    const w = b.constant('w', Tensor.fromArray(DataType.FLOAT, [4, 4], new Float32Array(16).fill(0.5)));
    const y = b.op('Gemm', [x, w], { alpha: 1 }, { name: 'gemm' });
    b.output(b.op('Relu', [y]), 'y');
    const file = join(tmp, 'int-alpha.onnx');
    writeFileSync(file, encode(b.build()));
    const r = onnxkit(['optimize', file, '-o', join(tmp, 'int-alpha.opt.onnx')]);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('onnxkit: warning:'));
    expect(warnings).toEqual([`onnxkit: warning: Gemm 'gemm': attribute 'alpha' is INT, not FLOAT: a malformed node (onnxruntime refuses the model); no pass rewrites it`]);
    const quiet = onnxkit(['optimize', file, '-o', join(tmp, 'int-alpha.q.onnx'), '-q']);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
    // A well-formed model gets no such line.
    expect(onnxkit(['optimize', FIXTURE, '-o', join(tmp, 'fine.onnx')]).stderr).not.toMatch(/warning/);
  });
});
