/**
 * External data: saving with external data and reloading it (also in onnxruntime-node), the
 * read-side containment rules of issue 7 with one test per CVE, and the save-side rule that
 * data is written only inside the output's folder.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Attribute, DataType, Graph, GraphBuilder, Node, Tensor, Value, diffModels, type TensorSource } from '@onnxkit/graph';
import { decode, encode, ExportError, ImportError, load, save } from '@onnxkit/importer';
import { cleanup, externalModel, mlp, seededFloats, tempDir } from './helpers/files.js';
import { allSameBits, run } from './helpers/ort.js';
import * as ort from 'onnxruntime-node';

afterAll(cleanup);

const WEIGHTS = new Uint8Array(Float32Array.of(1, 2, 3, 4).buffer);

/** Writes `model.onnx` (with the given entries) and `weights.bin` into a fresh folder. */
function layout(entries: [string, string][], extra?: Uint8Array[]): { dir: string; path: string } {
  const dir = tempDir('ext');
  writeFileSync(join(dir, 'weights.bin'), WEIGHTS);
  const path = join(dir, 'model.onnx');
  writeFileSync(path, externalModel(entries, extra));
  return { dir, path };
}

function refusal(path: string): ImportError {
  try {
    load(path);
  } catch (e) {
    expect(e).toBeInstanceOf(ImportError);
    const err = e as ImportError;
    expect(err.code).toBe('IMPORT_EXTERNAL_DATA');
    expect(err.message).toContain("tensor 'w'");
    expect(err.file).toBe(path);
    return err;
  }
  throw new Error('expected the external data to be refused');
}

describe('external data, read side', () => {
  it('reads a tensor lazily from a file beside the model, by (location, offset, length)', () => {
    const { dir, path } = layout([
      ['location', 'weights.bin'],
      ['offset', '0'],
      ['length', '16'],
    ]);
    const m = load(path);
    const t = m.graph.initializers.get('w')!.constValue!;
    expect(t.isLazy).toBe(true);
    expect(t.external).toMatchObject({ location: 'weights.bin', offset: 0, length: 16 });
    expect(Array.from(t.toFloat64())).toEqual([1, 2, 3, 4]);
    // encode() keeps the reference verbatim by default, and embeds the bytes on request.
    expect(encode(m)).toEqual(new Uint8Array(readFileSync(path)));
    const embedded = decode(encode(m, { externalData: 'embed' }));
    expect(embedded.graph.initializers.get('w')!.constValue!.isLazy).toBe(false);
    expect(diffModels(m, embedded)).toEqual([]);
    // Bytes decoded with a baseDir resolve the same way.
    expect(Array.from(decode(readFileSync(path), { baseDir: dir }).graph.initializers.get('w')!.constValue!.toFloat64())).toEqual([1, 2, 3, 4]);
  });

  it('bytes decoded without a folder fail only when the data is read, saying what to pass', () => {
    const { path } = layout([['location', 'weights.bin']]);
    const m = decode(readFileSync(path));
    expect(() => m.graph.initializers.get('w')!.constValue!.bytes()).toThrow(/decoded from bytes without a folder/);
  });

  it('CVE-2022-25882: a location with .. is refused', () => {
    const { dir, path } = layout([['location', '../weights.bin']]);
    writeFileSync(join(dir, '..', 'weights.bin'), WEIGHTS);
    expect(refusal(path).message).toContain("'..' segment");
  });

  it('an absolute location is refused', () => {
    const { path } = layout([['location', '/etc/passwd']]);
    expect(refusal(path).message).toContain('absolute external data location');
    const win = layout([['location', 'C:\\weights.bin']]);
    expect(refusal(win.path).message).toContain('absolute');
  });

  it('CVE-2024-27318: subdir/../../x is refused even though it starts inside the folder', () => {
    const { dir, path } = layout([['location', 'sub/../../weights.bin']]);
    mkdirSync(join(dir, 'sub'));
    expect(refusal(path).message).toContain("'..' segment");
    const back = layout([['location', 'sub\\..\\..\\weights.bin']]);
    expect(refusal(back.path).message).toContain("'..' segment");
  });

  it('CVE-2026-27489: a symlink (file or folder) resolving outside the model folder is refused; one inside is followed', () => {
    const outside = tempDir('outside');
    writeFileSync(join(outside, 'secret.bin'), WEIGHTS);
    const file = layout([['location', 'link.bin']]);
    symlinkSync(join(outside, 'secret.bin'), join(file.dir, 'link.bin'));
    expect(refusal(file.path).message).toMatch(/symbolic link .* outside the model folder/);
    const folder = layout([['location', 'linked/secret.bin']]);
    symlinkSync(outside, join(folder.dir, 'linked'));
    expect(refusal(folder.path).message).toContain('outside the model folder');
    const inside = layout([['location', 'alias.bin']]);
    symlinkSync(join(inside.dir, 'weights.bin'), join(inside.dir, 'alias.bin'));
    expect(Array.from(load(inside.path).graph.initializers.get('w')!.constValue!.toFloat64())).toEqual([1, 2, 3, 4]);
  });

  it('non-regular files are refused: a directory, a FIFO (without blocking) and a device', () => {
    const d = layout([['location', 'adir']]);
    mkdirSync(join(d.dir, 'adir'));
    expect(refusal(d.path).message).toContain('is a directory');
    const f = layout([['location', 'fifo']]);
    execFileSync('mkfifo', [join(f.dir, 'fifo')]);
    expect(refusal(f.path).message).toContain('is a FIFO');
    const dev = layout([['location', 'zero']]);
    if (process.getuid?.() === 0) {
      execFileSync('mknod', [join(dev.dir, 'zero'), 'c', '1', '5']);
      expect(refusal(dev.path).message).toContain('is a device');
    } else {
      // Without root no device node can be made inside the folder; a link to one leaves it.
      symlinkSync('/dev/zero', join(dev.dir, 'zero'));
      expect(refusal(dev.path).message).toContain('outside the model folder');
    }
  });

  it('unknown and duplicated keys are refused', () => {
    expect(refusal(layout([['location', 'weights.bin'], ['basepath', '/']]).path).message).toContain("key 'basepath'");
    expect(refusal(layout([['location', 'weights.bin'], ['location', 'other.bin']]).path).message).toContain("repeats external_data key 'location'");
    expect(refusal(layout([['offset', '0']]).path).message).toContain('has no location');
  });

  it('negative, non-integer and overflowing offsets and lengths are refused', () => {
    for (const [key, value] of [
      ['offset', '-4'],
      ['offset', '1.5'],
      ['offset', '0x10'],
      ['offset', ' 4'],
      ['length', '1e3'],
      ['length', '99999999999999999999'],
      ['offset', '9007199254740993'],
    ] as const) {
      const e = refusal(layout([['location', 'weights.bin'], [key, value]]).path);
      expect(e.message).toMatch(/not a non-negative decimal integer|beyond 2\^53/);
    }
  });

  it('offset + length beyond the file, or a file shorter than the tensor, is refused', () => {
    expect(refusal(layout([['location', 'weights.bin'], ['offset', '8']]).path).message).toContain('holds 16 bytes, but the tensor needs bytes 8 to 24');
    expect(refusal(layout([['location', 'weights.bin'], ['offset', '4'], ['length', '16']]).path).message).toContain('holds 16 bytes, but the tensor needs bytes 4 to 20');
    expect(refusal(layout([['location', 'missing.bin']]).path).message).toContain('does not exist');
  });

  it('a missing data file: the hint names baseDir only when the caller passed it (the CLI has no such option)', () => {
    const { dir, path } = layout([['location', 'missing.bin']]);
    expect(refusal(path).hint).toBe('copy the data file next to the model');
    let e: unknown;
    try {
      decode(readFileSync(path), { baseDir: dir });
    } catch (x) {
      e = x;
    }
    expect((e as ImportError).hint).toBe('copy the data file next to the model, or pass the right baseDir');
  });

  it('CVE-2026-34445: injected keys and absurd lengths are refused in bounded memory', () => {
    const junk = Array.from({ length: 20_000 }, (_, i) => ['__class__', `x${i}`] as [string, string]);
    const before = process.memoryUsage().arrayBuffers;
    expect(refusal(layout([['location', 'weights.bin'], ...junk]).path).message).toContain("key '__class__'");
    expect(refusal(layout([['location', 'weights.bin'], ['length', String(2 ** 50)]]).path).message).toMatch(/needs 16 bytes but its external_data length says/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 << 20);
  });
});

describe('external data, save side', () => {
  it('saves large initializers to one data file, reloads equal, and ORT runs it with the same outputs', async () => {
    const m = mlp(64);
    const dir = tempDir('save');
    const path = join(dir, 'mlp.onnx');
    const res = save(m, path, { externalData: true });
    expect(res.externalFiles).toEqual([join(dir, 'mlp.onnx.data')]);
    expect(readdirSync(dir).sort()).toEqual(['mlp.onnx', 'mlp.onnx.data']);
    const back = load(path);
    expect(diffModels(m, back)).toEqual([]);
    for (const name of ['w1', 'w2']) {
      const t = back.graph.initializers.get(name)!.constValue!;
      expect(t.external?.location).toBe('mlp.onnx.data');
      expect(t.external!.offset % 4096).toBe(0);
    }
    // b1/b2 are 256 bytes, under the default 1024-byte threshold: they stay inline.
    expect(back.graph.initializers.get('b1')!.constValue!.isLazy).toBe(false);
    expect(res.bytesWritten).toBe(readFileSync(path).length + readFileSync(join(dir, 'mlp.onnx.data')).length);

    const x = new ort.Tensor('float32', seededFloats(64, 99), [1, 64]);
    const expected = await run(encode(m), { x });
    const s = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1, logSeverityLevel: 4 });
    const got = await s.run({ x });
    await s.release();
    expect(allSameBits(expected, got)).toBeNull();
  });

  it('is deterministic: saving twice gives byte-identical model and data files', () => {
    const a = tempDir('det');
    const b = tempDir('det');
    save(mlp(32), join(a, 'm.onnx'), { externalData: { sizeThreshold: 100, align: 64 } });
    save(mlp(32), join(b, 'm.onnx'), { externalData: { sizeThreshold: 100, align: 64 } });
    save(mlp(32), join(b, 'm.onnx'), { externalData: { sizeThreshold: 100, align: 64 } });
    for (const f of ['m.onnx', 'm.onnx.data']) expect(Buffer.compare(readFileSync(join(a, f)), readFileSync(join(b, f)))).toBe(0);
  });

  it('CVE-2025-51480: writes external data only inside the output folder, whatever locations the model carried', () => {
    const victim = tempDir('victim');
    const evil = join(victim, 'overwritten.bin');
    // A tensor claiming to live at ../victim/overwritten.bin (absolute, too) of the output folder.
    const source = (location: string): TensorSource => ({
      byteLength: 4096,
      description: 'test source',
      external: { location, offset: 0, length: 4096 },
      read: () => new Uint8Array(4096).fill(7),
    });
    const b = new GraphBuilder();
    const x = b.input('x', DataType.FLOAT, [1024]);
    const w = b.constant('w', Tensor.lazy(DataType.FLOAT, [1024], source(`../${victim.split('/').pop()}/overwritten.bin`)));
    const v = b.constant('v', Tensor.lazy(DataType.FLOAT, [1024], source(evil)));
    b.output(b.op('Add', [b.op('Add', [x, w]), v]), 'y');
    const out = tempDir('out');
    const res = save(b.build(), join(out, 'model.onnx'), { externalData: true });
    expect(existsSync(evil)).toBe(false);
    expect(readdirSync(victim)).toEqual([]);
    expect(res.externalFiles).toEqual([join(out, 'model.onnx.data')]);
    const back = load(join(out, 'model.onnx'));
    expect(back.graph.initializers.get('w')!.constValue!.external!.location).toBe('model.onnx.data');
    expect(back.graph.initializers.get('v')!.constValue!.bytes()).toEqual(new Uint8Array(4096).fill(7));
  });

  it('refuses external data locations that would leave the output folder', () => {
    const out = tempDir('loc');
    const outside = tempDir('elsewhere');
    symlinkSync(outside, join(out, 'linked'));
    for (const location of ['../x.data', '/tmp/x.data', 'sub/../../x.data', 'linked/x.data']) {
      let err: unknown;
      try {
        save(mlp(16), join(out, 'm.onnx'), { externalData: { location } });
      } catch (e) {
        err = e;
      }
      expect(err, location).toBeInstanceOf(ExportError);
      expect((err as ExportError).code).toBe('EXPORT_LOCATION');
    }
    expect(readdirSync(outside)).toEqual([]);
    expect(readdirSync(out)).toEqual(['linked']);
  });

  it('puts initializers of subgraphs in the data file too, and writes one copy of a tensor object used twice', () => {
    const m = mlp(32);
    const t = m.graph.initializers.get('w1')!.constValue!;
    m.graph.addInitializer(new Value({ name: 'w1_again', constValue: t }));
    const sub = new Graph({ name: 'then' });
    const sw = sub.initializer(Tensor.fromArray(DataType.FLOAT, [512], seededFloats(512, 5), { name: 'sub_w' }));
    sub.addOutput(sw);
    const ifNode = new Node('If', [m.graph.inputs[0]!], { outputs: ['z'], attributes: [Attribute.graph('then_branch', sub), Attribute.graph('else_branch', new Graph({ name: 'else', outputs: [m.graph.inputs[0]!] }))] });
    m.graph.append(ifNode);
    const dir = tempDir('dedup');
    save(m, join(dir, 'm.onnx'), { externalData: { sizeThreshold: 0, align: 16 } });
    const back = load(join(dir, 'm.onnx'));
    // The alias carries the tensor object named 'w1'; the file names it after its initializer.
    expect(diffModels(m, back)).toEqual(['graph.initializer["w1_again"].name: "w1" != "w1_again"']);
    const off = (n: string): number => back.graph.initializers.get(n)!.constValue!.external!.offset;
    expect(off('w1_again')).toBe(off('w1'));
    expect(off('w2')).not.toBe(off('w1'));
    const subBack = back.graph.lastNode!.attr('then_branch')!.asGraph().initializers.get('sub_w')!.constValue!;
    expect(subBack.external?.location).toBe('m.onnx.data');
    expect(Array.from(subBack.toFloat64())).toEqual(Array.from(seededFloats(512, 5)));
    // w1 and w2 (4 KiB each), two 128-byte biases and sub_w (2 KiB): no second copy for the alias.
    expect(readFileSync(join(dir, 'm.onnx.data')).length).toBe(2 * 4096 + 2 * 128 + 2048);
  });
});
