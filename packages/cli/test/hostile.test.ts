// End-to-end hostile inputs (issue 13): the real `onnxkit` binary (built by the global setup)
// against models and files designed to crash, hang or mislead it. Each case is one class of the
// issue; the expected answer is a typed, one-line error with a documented exit code, or a
// correct result — never a signal, exit 70, a stack trace or a destroyed file.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataType, GraphBuilder } from '@onnxkit/graph';
import { save } from '@onnxkit/importer';
import { writeNpz } from '@onnxkit/runtime';
import { alwaysFaulting, duplicateInitializerBytes, faultingFeeds, functionChain, intAdd, intDivide, nestedIfs, recursiveFunctions } from '../../../fuzz/hostile.js';
import { BIN, cliRunner, expectOneLineError } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-hostile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const onnxkit = cliRunner(tmp);

/** One line on stderr starting with "onnxkit: ", the given exit code, no stack trace, no signal. */

describe('onnxruntime cannot take the CLI down', () => {
  const fpe = join(tmp, 'int-div.onnx');
  const feeds = join(tmp, 'faulting.npz');
  save(intDivide('Div', 'int-div'), fpe);
  save(intDivide('Mod', 'int-mod'), join(tmp, 'int-mod.onnx'));
  writeNpz(feeds, faultingFeeds());

  it('run: SIGFPE in an integer Div/Mod is one line naming the model, exit 2', () => {
    expectOneLineError(onnxkit(['run', fpe, '--inputs', feeds]), 2, /int-div\.onnx.*SIGFPE/);
    expectOneLineError(onnxkit(['run', 'int-mod.onnx', '--inputs', feeds, '--json']), 2, /int-mod\.onnx.*SIGFPE/);
  });

  it('verify: the crashing model is named, exit 2', () => {
    save(intDivide('Div', 'other'), join(tmp, 'b.onnx'));
    expectOneLineError(onnxkit(['verify', fpe, 'b.onnx', '--inputs', feeds]), 2, /int-div\.onnx.*SIGFPE/);
  });

  it('verify: when onnxruntime crashes on one model, the other model\'s outputs and timings are printed, then one line naming the crashed one, exit 2', () => {
    save(intAdd('int-add'), join(tmp, 'add.onnx'));
    save(alwaysFaulting('always-fpe'), join(tmp, 'fpe.onnx'));
    const r = onnxkit(['verify', 'add.onnx', 'fpe.onnx']);
    expectOneLineError(r, 2, /^onnxkit: fpe\.onnx: the onnxruntime process was killed by SIGFPE.*; add\.onnx ran without a crash/);
    expect(r.stdout).toMatch(/^A add\.onnx \(B crashed onnxruntime\)$/m);
    expect(r.stdout).toMatch(/^y\s+int32\s+\[2\]/m);
    expect(r.stdout).toMatch(/^A: created in .+, ran in .+; synthetic inputs \(seed 0\)$/m);
    // A crashes: B is opened again in a fresh onnxruntime process and runs; --json says the same.
    const j = onnxkit(['verify', 'fpe.onnx', 'add.onnx', '--json']);
    expectOneLineError(j, 2, /^onnxkit: fpe\.onnx: .*SIGFPE.*; add\.onnx ran without a crash/);
    const out = JSON.parse(j.stdout) as { equivalent: boolean; crashed: { side: string; model: string }; survivor: { side: string; model: string; runMs: number; outputs: { name: string; dtype: string; shape: number[] }[] } };
    expect(out.equivalent).toBe(false);
    expect(out.crashed).toMatchObject({ side: 'A', model: 'fpe.onnx' });
    expect(out.survivor).toMatchObject({ side: 'B', model: 'add.onnx', outputs: [{ name: 'y', dtype: 'int32', shape: [2] }] });
    expect(out.survivor.runMs).toBeGreaterThan(0);
  });

  it('bench --vs: when onnxruntime crashes on one model, the other is benchmarked alone and printed, exit 2', () => {
    save(intAdd('int-add'), join(tmp, 'add.onnx'));
    save(alwaysFaulting('always-fpe'), join(tmp, 'fpe.onnx'));
    const r = onnxkit(['bench', 'add.onnx', '--vs', 'fpe.onnx', '--iterations', '3', '--warmup', '0']);
    expectOneLineError(r, 2, /^onnxkit: fpe\.onnx: .*SIGFPE.*; add\.onnx, benchmarked alone, ran without a crash/);
    expect(r.stdout).toMatch(/^add\.onnx\s+2\s+\d/m);
    expect(r.stdout).toMatch(/A benchmarked alone \(B crashed onnxruntime\)/);
  });

  it('run: a chain of 10,000 local functions segfaults onnxruntime, not the CLI', () => {
    save(functionChain(10_000), join(tmp, 'chain.onnx'));
    expectOneLineError(onnxkit(['run', 'chain.onnx']), 2, /chain\.onnx/);
  });
});

describe('no crash, no hang from a small file', () => {
  it('recursive local functions: one line naming the chain, exit 2, for every command', () => {
    save(recursiveFunctions(3), join(tmp, 'rec.onnx'));
    for (const cmd of [['inspect'], ['analyze'], ['optimize', '-o', 'rec.opt.onnx'], ['convert', '-o', 'rec.out.onnx']]) {
      expectOneLineError(onnxkit([cmd[0]!, 'rec.onnx', ...cmd.slice(1)]), 2, /local:f0 → local:f1 → local:f2 → local:f0/);
    }
  });

  it('functions that each call the next twice: analyze and optimize finish, naming the budget', () => {
    save(functionChain(40, 2), join(tmp, 'exp.onnx'));
    const a = onnxkit(['analyze', 'exp.onnx']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout + a.stderr).toMatch(/expanding local functions would visit more than/);
    const o = onnxkit(['optimize', 'exp.onnx', '-o', 'exp.opt.onnx']);
    expect(o.code, o.stderr).toBe(0);
  });

  it('duplicate initializer names are refused at load, naming the tensor', () => {
    writeFileSync(join(tmp, 'dup.onnx'), duplicateInitializerBytes());
    writeFileSync(join(tmp, 'dup-sparse.onnx'), duplicateInitializerBytes(true));
    expectOneLineError(onnxkit(['inspect', 'dup.onnx']), 2, /initializer 'dupAAAA' is defined twice/);
    expectOneLineError(onnxkit(['convert', 'dup-sparse.onnx', '-o', 'x.onnx']), 2, /sparse initializer 'dupAAAA' is defined twice|initializer 'dupAAAA' is defined twice/);
  });
});

describe('a structure larger than the heap is refused, not an out-of-memory abort', () => {
  // A 60 MB file of 30 million empty nodes (2 bytes each, ≈ 160 bytes of heap) ran V8 out of
  // heap: signal 6 after 24 s. The same holds at a smaller heap limit for a smaller file.
  const repeated = (field: number, n: number): Uint8Array => {
    const b = new Uint8Array(2 * n);
    for (let i = 0; i < n; i++) b[2 * i] = (field << 3) | 2; // an empty message, then the next
    return b;
  };
  const file = (name: string, graphBody: Uint8Array): string => {
    const len: number[] = [];
    for (let v = graphBody.length; ; v = Math.floor(v / 128)) {
      if (v < 128) {
        len.push(v);
        break;
      }
      len.push((v & 127) | 128);
    }
    const head = Uint8Array.from([0x08, 8, 0x42, 2, 0x10, 17, 0x3a, ...len]); // ir_version 8, opset 17, graph
    const bytes = new Uint8Array(head.length + graphBody.length);
    bytes.set(head);
    bytes.set(graphBody, head.length);
    writeFileSync(join(tmp, name), bytes);
    return name;
  };
  const env = { NODE_OPTIONS: '--max-old-space-size=160' };
  /** Writes a chain of `n` Relu nodes to `name` in the test folder. */
  const reluChain = (n: number, name: string): void => {
    const b = new GraphBuilder({ opset: 17 });
    let v = b.input('x', DataType.FLOAT, [1, 4]);
    for (let i = 0; i < n; i++) v = b.op('Relu', [v]);
    b.output(v, 'y');
    save(b.build(), join(tmp, name));
  };

  it('3 million empty nodes, or graph inputs, under a 160 MiB heap: one line saying how to raise the limit, exit 2', () => {
    const nodes = file('empty-nodes.onnx', repeated(1, 3_000_000));
    const inputs = file('empty-inputs.onnx', repeated(11, 3_000_000));
    const raise = /needs more memory than the import may take \(\d+ MiB in use, \d+ MiB allowed\).*at byte \d+.*NODE_OPTIONS=--max-old-space-size=<MiB>/;
    expectOneLineError(onnxkit(['inspect', nodes], { env }), 2, raise);
    expectOneLineError(onnxkit(['optimize', nodes, '-o', 'empty.opt.onnx'], { env }), 2, raise);
    expectOneLineError(onnxkit(['analyze', inputs, '--json'], { env }), 2, raise);
    expect(existsSync(join(tmp, 'empty.opt.onnx'))).toBe(false);
  });

  it('an analysis whose rows outgrow the heap (≈ 2.5 KB a layer): one line saying how to raise the limit, exit 2', () => {
    // 3 million Relu layers (a 60 MB file) ran `analyze --json` out of heap: signal 6 after 75 s.
    reluChain(150_000, 'relu-150k.onnx');
    for (const format of ['--json', '--csv']) {
      expectOneLineError(onnxkit(['analyze', 'relu-150k.onnx', format], { env }), 2, /the analysis needs more memory than it may take \(\d+ MiB in use, \d+ MiB allowed after \d+ of 150000 layers\).*NODE_OPTIONS=--max-old-space-size=<MiB>; an analysis takes about 3 KiB of it per layer/);
    }
  });

  it('report and demo refuse a model of more than 100,000 layers, before any work, naming the tables that scale', () => {
    // 300,000 Relu layers made a 326 MiB page (3.1 GB of RSS to write); a million would pass
    // V8's longest string.
    reluChain(100_001, 'relu-100k1.onnx');
    const refused = /relu-100k1\.onnx: 100,001 layers are more than an HTML report holds \(100,000, about 110 MB of page\).*analyze --csv/;
    expectOneLineError(onnxkit(['report', 'relu-100k1.onnx', '-o', 'big.html']), 2, refused);
    expectOneLineError(onnxkit(['demo', 'relu-100k1.onnx', '--out', 'big-demo', '--device', 'jetson-agx-orin']), 2, refused);
    expect(existsSync(join(tmp, 'big.html'))).toBe(false);
  });

  it('the same heap holds a model that fits: 100,000 empty nodes are read', () => {
    const r = onnxkit(['inspect', file('fewer-nodes.onnx', repeated(1, 100_000)), '--json'], { env });
    expect(r.signal).toBeNull();
    expect(r.stderr).not.toMatch(/needs more memory/);
  });
});

describe('input tensors obey --max-tensor-bytes', () => {
  it('a declared [1e5, 1e5] input, a 4 GiB input, an .npz bomb, deep JSON: one line each, exit 2, little memory', async () => {
    const { DataType, GraphBuilder, Tensor } = await import('@onnxkit/graph');
    const { encodeNpz } = await import('@onnxkit/runtime');
    for (const [name, shape] of [['huge', [100_000, 100_000]], ['fourgib', [2 ** 30]], ['small', [4 * 2 ** 20]]] as const) {
      const b = new GraphBuilder({ name, opset: 17 });
      b.output(b.op('Identity', [b.input('x', DataType.FLOAT, [...shape])]), 'y');
      save(b.build(), join(tmp, `${name}.onnx`));
    }
    expectOneLineError(onnxkit(['run', 'huge.onnx']), 2, /input 'x' would be float\[100000,100000\] = 37\.3 GiB, above the limit of 2\.0 GiB/);
    expectOneLineError(onnxkit(['verify', 'fourgib.onnx', 'fourgib.onnx']), 2, /input 'x' would be float\[1073741824\] = 4\.0 GiB/);
    expectOneLineError(onnxkit(['--max-tensor-bytes', '1MiB', 'bench', 'small.onnx']), 2, /above the limit of 1\.0 MiB per tensor/);
    const n = 4 * 2 ** 20;
    writeFileSync(join(tmp, 'bomb.npz'), encodeNpz({ x: Tensor.fromArray(DataType.FLOAT, [n], new Float32Array(n)) }, { compress: true }));
    expectOneLineError(onnxkit(['--max-tensor-bytes', '1MiB', 'run', 'small.onnx', '--inputs', 'bomb.npz']), 2, /bomb\.npz: entry 'x\.npy' inflates to 16777344 bytes/);
    writeFileSync(join(tmp, 'deep.json'), `{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    expectOneLineError(onnxkit(['run', 'small.onnx', '--inputs', 'deep.json']), 2, /arrays nest deeper than 64 levels/);
  });
});

describe('output paths never destroy what they name', () => {
  it('-o /dev/null writes to the device; -o - streams the model to stdout and nothing else', () => {
    save(intDivide('Div', 'small-out'), join(tmp, 'o.onnx'));
    const ino = statSync('/dev/null').ino;
    const r = onnxkit(['convert', 'o.onnx', '-o', '/dev/null']);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(statSync('/dev/null').ino).toBe(ino);
    const out = spawnSync(process.execPath, [BIN, 'convert', 'o.onnx', '-o', '-'], { cwd: tmp, env: { ...process.env, NO_COLOR: '1' } });
    expect(out.status).toBe(0);
    expect(Buffer.compare(out.stdout, readFileSync(join(tmp, 'o.onnx')))).toBe(0);
  });

  it('-o results/ where results is a file: refused, the file untouched', () => {
    writeFileSync(join(tmp, 'results'), 'keep');
    expectOneLineError(onnxkit(['convert', 'o.onnx', '-o', 'results/']), 2, /ends with a slash, so it names a folder/);
    expect(readFileSync(join(tmp, 'results'), 'utf8')).toBe('keep');
  });

  it('-o through a symlink in the same folder replaces its target, the link stays', () => {
    writeFileSync(join(tmp, 'target.onnx'), 'old');
    symlinkSync('target.onnx', join(tmp, 'latest.onnx'));
    const r = onnxkit(['convert', 'o.onnx', '-o', 'latest.onnx']);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(join(tmp, 'latest.onnx')).isSymbolicLink()).toBe(true);
    expect(Buffer.compare(readFileSync(join(tmp, 'target.onnx')), readFileSync(join(tmp, 'o.onnx')))).toBe(0);
  });

  // (SIGHUP, a closed terminal, killed the process where it stood, its temporary file left behind)
  it.each([['SIGTERM', 143], ['SIGINT', 130], ['SIGHUP', 129]] as const)('%s during a large save: exit %i, no temporary file left', async (signal, code) => {
    const { DataType, GraphBuilder, Tensor } = await import('@onnxkit/graph');
    const big = join(tmp, 'big.onnx');
    if (!existsSync(big)) {
      const b = new GraphBuilder({ name: 'big', opset: 17 });
      const n = 48 * 2 ** 20;
      const w = b.constant('W', Tensor.fromArray(DataType.FLOAT, [n], new Float32Array(n)));
      b.output(b.op('Add', [b.input('x', DataType.FLOAT, [n]), w]), 'y');
      save(b.build(), big);
    }
    const outDir = join(tmp, `sig-${signal}`);
    mkdirSync(outDir);
    const child = spawn(process.execPath, [BIN, 'convert', big, '-o', join(outDir, 'out.onnx')], { cwd: tmp, stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    // Signal once the save has started (its temporary file exists).
    for (let i = 0; i < 2000 && !readdirSync(outDir).some((n) => n.includes('.tmp-')); i++) await new Promise((r) => setTimeout(r, 5));
    child.kill(signal);
    expect(await exited).toBe(code);
    expect(readdirSync(outDir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  }, 120_000);

  // `timeout 30 onnxkit analyze` of a big model ran 11 minutes until SIGKILL: the SIGTERM/SIGHUP
  // and SIGINT handlers were installed for every command at start-up, and a JS handler runs only
  // when the event loop turns, so the long synchronous analysis was deaf to them. They are now
  // installed only once a save (or an onnxruntime child) needs cleaning up; before that a signal
  // ends the process at once, as it does any Unix tool.
  it.each([['SIGTERM', 'analyze'], ['SIGINT', 'optimize']] as const)('%s during a long synchronous %s (before any save): the process dies at once, nothing written', async (signal, command) => {
    const chain = join(tmp, 'long-chain.onnx');
    if (!existsSync(chain)) {
      // 500k nodes, one shared weight and bias (written in ≈ 3 s): `analyze` ≈ 7.5 s; `optimize` imports in ≈ 1 s, then
      // analyses and rewrites for ≈ 1.6 s before it starts the save (a quiet 2-core machine).
      const { DataType, GraphBuilder, Tensor } = await import('@onnxkit/graph');
      const b = new GraphBuilder({ name: 'chain', opset: 17 });
      let x = b.input('x', DataType.FLOAT, [1, 16]);
      const w = b.constant('w', Tensor.fromArray(DataType.FLOAT, [16, 16], new Float32Array(256).fill(0.01)));
      const bias = b.constant('b', Tensor.fromArray(DataType.FLOAT, [16], new Float32Array(16).fill(0.01)));
      for (let i = 0; i < 500_000 / 5; i++) {
        x = b.op('Relu', [b.op('Add', [b.op('MatMul', [x, w]), bias])]);
        x = b.op('Identity', [b.op('Neg', [x])]);
      }
      b.output(x, 'y');
      save(b.build(), chain);
    }
    const outDir = join(tmp, `busy-${signal}`);
    mkdirSync(outDir);
    const args = command === 'analyze' ? ['analyze', chain] : ['optimize', chain, '-o', join(outDir, 'out.onnx'), '--no-ort-fold'];
    const child = spawn(process.execPath, [BIN, ...args], { cwd: tmp, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ONNXKIT_PROGRESS: '1' } });
    try {
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((r) => child.on('exit', (code, sig) => r({ code, signal: sig, at: Date.now() })));
      // In the synchronous work: `optimize` says when the model is imported (then the passes run);
      // `analyze` prints nothing before its result, and decoding is as synchronous as analysing.
      let stderr = '';
      await new Promise<void>((resolve, reject) => {
        if (command === 'analyze') setTimeout(resolve, 1500);
        child.stderr!.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (/✔ import /.test(stderr)) setTimeout(resolve, 100);
        });
        child.on('exit', () => reject(new Error(`ended before the signal: ${stderr}`)));
      });
      const sentAt = Date.now();
      child.kill(signal);
      const end = await exited;
      // Ended by the signal itself (the shell reports 128 + n), not by a handler run once the
      // work was done (exit 143/130 seconds later); generous bound for a shared machine.
      expect({ code: end.code, signal: end.signal }).toEqual({ code: null, signal });
      expect(end.at - sentAt).toBeLessThan(5000);
      expect(readdirSync(outDir)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);
});

describe('the terminal is not the model\'s', () => {
  const EVIL = 'n\u001b]0;pwned\u0007\u001b[2J\rFAKE\u202eevil\u0085\u007f';
  // eslint-disable-next-line no-control-regex -- looking for control characters is the point
  const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

  it('names, producer and doc strings with escape sequences are escaped in tables, JSON and errors', async () => {
    const { DataType, GraphBuilder, OnnxFunction, Graph, Node, Value } = await import('@onnxkit/graph');
    const b = new GraphBuilder({ name: `graph${EVIL}`, opset: 17 });
    const x = b.input(`x${EVIL}`, DataType.FLOAT, [1, 4]);
    b.output(b.op('Relu', [x], {}, { name: `relu${EVIL}` }), `y${EVIL}`);
    const m = b.build({ producerName: `prod${EVIL}`, docString: `doc${EVIL}` });
    save(m, join(tmp, 'evil.onnx'));
    for (const cmd of [['inspect', 'evil.onnx'], ['analyze', 'evil.onnx'], ['run', 'evil.onnx']]) {
      const r = onnxkit(cmd);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout, cmd.join(' ')).not.toMatch(RAW);
      expect(r.stderr, cmd.join(' ')).not.toMatch(RAW);
      expect(r.stdout).toMatch(/\\u001b/);
      const j = onnxkit([...cmd, '--json']);
      expect(j.stdout).not.toMatch(RAW);
      const parsed = JSON.parse(j.stdout) as { producer?: { name: string } };
      // Escaped as \\uXXXX inside JSON strings: the parsed names are the model's, unchanged.
      if (cmd[0] === 'inspect') expect(parsed.producer!.name).toBe(`prod${EVIL}`);
    }
    // optimize --json escapes what JSON.stringify leaves raw (DEL, C1, bidi) in its own cheaper way.
    save(m, join(tmp, `evil${EVIL}.onnx`));
    const o = onnxkit(['optimize', `evil${EVIL}.onnx`, '-o', 'evil-opt.onnx', '--json']);
    expect(o.code, o.stderr).toBe(0);
    expect(o.stdout).not.toMatch(RAW);
    expect(o.stdout).toMatch(/\\u202e/);
    expect((JSON.parse(o.stdout) as { input: string }).input).toBe(`evil${EVIL}.onnx`);
    // A one-line error that quotes a model's function name.
    const body = new Graph({ name: 'b' });
    const fin = new Value({ name: 'in' });
    body.addInput(fin);
    const call = new Node(`f${EVIL}`, [fin], { domain: 'local', outputs: ['out'] });
    body.append(call);
    body.addOutput(call.output);
    const rb = new GraphBuilder({ name: 'rec', opset: 17 });
    const rx = rb.input('x', DataType.FLOAT, [2]);
    rb.output(rb.node(`f${EVIL}`, [rx], {}, { domain: 'local', outputs: ['y'] }).output, 'y');
    const rm = rb.build();
    rm.opsetImports.set('local', 1);
    rm.functions.push(new OnnxFunction({ domain: 'local', name: `f${EVIL}`, graph: body, opsetImports: new Map([['', 17], ['local', 1]]) }));
    save(rm, join(tmp, 'evil-rec.onnx'));
    const e = onnxkit(['inspect', 'evil-rec.onnx']);
    expectOneLineError(e, 2, /calls itself/);
    expect(e.stderr).not.toMatch(RAW);
    expect(e.stderr).toMatch(/\\u001b\]0;pwned\\u0007/);
    // verify's 'binding k of n' lines on stderr name the model's symbolic dims (review: raw there).
    const sb = new GraphBuilder({ name: 'sym', opset: 17 });
    const sx = sb.input('x', DataType.FLOAT, [`N${EVIL}`, 4]);
    sb.output(sb.op('Relu', [sx]), 'y');
    save(sb.build(), join(tmp, 'evil-sym.onnx'));
    const v = onnxkit(['verify', 'evil-sym.onnx', 'evil-sym.onnx']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stderr).toMatch(/binding 1 of 2/);
    expect(v.stderr).not.toMatch(RAW);
  }, 120_000);

  it('an SGR sequence in a name (conceal, black on black) is escaped; only our colours reach the terminal, none without colour', async () => {
    const { DataType, GraphBuilder } = await import('@onnxkit/graph');
    const b = new GraphBuilder({ name: 'g\u001b[8m', opset: 17 });
    const x = b.input('x', DataType.FLOAT, [1, 4]);
    b.output(b.op('Relu', [x], {}, { name: 'relu\u001b[8m\u001b[30;40m' }), 'y\u001b[8m');
    save(b.build({ producerName: 'p\u001b[8m' }), join(tmp, 'sgr.onnx'));
    for (const cmd of [['analyze', 'sgr.onnx'], ['inspect', 'sgr.onnx'], ['run', 'sgr.onnx']]) {
      const plain = onnxkit(cmd);
      expect(plain.code, plain.stderr).toBe(0);
      expect(plain.stdout, cmd.join(' ')).not.toContain('\u001b');
      expect(plain.stdout).toContain('\\u001b[8m');
      const colored = onnxkit(cmd, { env: { FORCE_COLOR: '1' } });
      expect(colored.stdout).toContain('\u001b[1m');
      expect(colored.stdout).not.toContain('\u001b[8m');
      expect(colored.stdout).not.toContain('\u001b[30;40m');
      expect(colored.stdout).toContain('\\u001b[8m');
    }
  });

  it('a line break in a name, producer, metadata or dim cannot forge a line of a table or a summary', async () => {
    const { DataType, GraphBuilder } = await import('@onnxkit/graph');
    const b = new GraphBuilder({ name: 'g\nFAKE graph', opset: 17 });
    const x = b.input('x\nFAKE input', DataType.FLOAT, ['N\nFAKE dim', 4]);
    b.output(b.op('Relu', [x], {}, { name: 'r\nFAKE node' }), 'y\r\nFAKE output');
    const m = b.build({ producerName: 'p\nFAKE producer' });
    m.metadataProps.set('k\nFAKE key', 'v\nFAKE value');
    save(m, join(tmp, 'lines.onnx'));
    for (const cmd of [['inspect', 'lines.onnx'], ['analyze', 'lines.onnx'], ['run', 'lines.onnx'], ['verify', 'lines.onnx', 'lines.onnx']]) {
      const r = onnxkit(cmd);
      expect(r.code, `${cmd.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout, cmd.join(' ')).not.toMatch(/^FAKE/m);
      expect(r.stdout, cmd.join(' ')).toMatch(/\\nFAKE/);
    }
    // optimize --explain names the nodes of each change.
    const bn = new GraphBuilder({ name: 'cbn', opset: 17 });
    const bx = bn.input('x', DataType.FLOAT, [1, 2, 4, 4]);
    const w = bn.floats('w', [2, 2, 1, 1], [0.5, 0.25, -0.5, 1]);
    const c = bn.op('Conv', [bx, w], {}, { name: 'conv\nFAKE conv' });
    const p = (v: number, name: string) => bn.floats(name, [2], [v, v]);
    bn.output(bn.op('BatchNormalization', [c, p(1, 's'), p(0.1, 'b'), p(0, 'm'), p(1, 'v')], {}, { name: 'bn\nFAKE bn' }), 'y');
    save(bn.build(), join(tmp, 'lines-bn.onnx'));
    const o = onnxkit(['optimize', 'lines-bn.onnx', '-o', 'lines-bn-opt.onnx', '--explain']);
    expect(o.code, o.stderr).toBe(0);
    expect(o.stdout).toMatch(/conv\\nFAKE conv/);
    expect(o.stdout).not.toMatch(/^FAKE/m);
  });

  it('onnxruntime log lines never reach the terminal', () => {
    const r = onnxkit(['run', 'evil.onnx', '--json'], { env: { NO_COLOR: '1' } });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/onnxruntime|\[W:|\[E:/);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  });
});

describe('smaller', () => {
  it('run -o out.npz: output names with ../, / or an absolute path become flat, round-tripping entry names', async () => {
    const { DataType, GraphBuilder } = await import('@onnxkit/graph');
    const { readNpz } = await import('@onnxkit/runtime');
    const b = new GraphBuilder({ name: 'names', opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2]);
    const names = ['../../../escaped', '/abs/olute', 'a/b', '..', 'ok.name'];
    names.forEach((n) => b.output(b.op('Relu', [x]), n));
    save(b.build(), join(tmp, 'names.onnx'));
    const dir = join(tmp, 'npz-out');
    mkdirSync(dir);
    const r = onnxkit(['run', 'names.onnx', '-o', join(dir, 'out.npz')]);
    expect(r.code, r.stderr).toBe(0);
    const listing = spawnSync('unzip', ['-Z1', join(dir, 'out.npz')], { encoding: 'utf8' });
    if (listing.status === 0) {
      for (const entry of listing.stdout.trim().split('\n')) {
        expect(entry).not.toMatch(/\/|^\.|\\/);
      }
    }
    expect([...readNpz(join(dir, 'out.npz')).keys()].sort()).toEqual([...names].sort());
  });

  // A system error the CLI had no words for was 'internal error … this is a bug in onnxkit', exit 70:
  // inspect of a symlink loop (ELOOP), inspect, batch and report -o with a name over 255 bytes
  // (ENAMETOOLONG). And a loop was 'it is a symbolic link', the words for an external data file
  // opened without following links.
  it('a model path that is a loop of symlinks, or a name too long for the file system: one line, exit 2, not an internal error', () => {
    symlinkSync('loop-b.onnx', join(tmp, 'loop-a.onnx'));
    symlinkSync('loop-a.onnx', join(tmp, 'loop-b.onnx'));
    expectOneLineError(onnxkit(['inspect', 'loop-a.onnx']), 2, /^onnxkit: cannot open 'loop-a\.onnx': a loop of symbolic links$/);
    for (const c of [['analyze'], ['optimize', '-o', 'loop-out.onnx']]) {
      expectOneLineError(onnxkit([c[0]!, 'loop-a.onnx', ...c.slice(1)]), 2, /^onnxkit: loop-a\.onnx: cannot read the model: a loop of symbolic links \(point the link at the real file\)$/);
    }
    const long = 'n'.repeat(300);
    expectOneLineError(onnxkit(['inspect', `${long}.onnx`]), 2, /^onnxkit: cannot open 'n+\.onnx': the file name is too long$/);
    expectOneLineError(onnxkit(['batch', long]), 2, /the file name is too long$/);
    expectOneLineError(onnxkit(['report', 'loop-a.onnx', '-o', join(long, 'r.html')]), 2, /the file name is too long$/);
  });

  it('--device pointing at a FIFO and --threads 100000 are refused at once', () => {
    spawnSync('mkfifo', [join(tmp, 'dev.fifo')]);
    save(intDivide('Div', 'small-dev'), join(tmp, 'sd.onnx'));
    expectOneLineError(onnxkit(['analyze', 'sd.onnx', '--device', './dev.fifo']), 2, /not a regular file/);
    expectOneLineError(onnxkit(['run', 'sd.onnx', '--threads', '100000']), 2, /intraOpNumThreads must be at most 1024, got 100000/);
  });

  it('--energy-table naming a FIFO, /dev/urandom or a folder is refused at once (it read a FIFO forever and /dev/urandom until memory ran out)', () => {
    spawnSync('mkfifo', [join(tmp, 'energy.fifo')]);
    save(intDivide('Div', 'small-energy'), join(tmp, 'se.onnx'));
    for (const table of ['./energy.fifo', '/dev/urandom', '.']) {
      expectOneLineError(onnxkit(['analyze', 'se.onnx', '--energy-table', table], { timeout: 30_000 }), 2, /is not a regular file; an energy table must be a \.json file/);
    }
  });

  it('25 and 80 nested If nodes load, analyse, optimize and run; the limit is the stack, not legitimate depth', () => {
    save(nestedIfs(25), join(tmp, 'if25.onnx'));
    save(nestedIfs(80), join(tmp, 'if80.onnx'));
    for (const f of ['if25.onnx', 'if80.onnx']) {
      for (const cmd of [['inspect', f], ['analyze', f], ['optimize', f, '-o', `opt-${f}`]]) {
        const r = onnxkit(cmd);
        expect(r.code, `${cmd.join(' ')}: ${r.stderr}`).toBe(0);
      }
    }
    const run = onnxkit(['run', 'if25.onnx']);
    expect(run.code, run.stderr).toBe(0);
  });
});
