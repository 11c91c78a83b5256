/**
 * Output paths never destroy what they name (issue 13, item 4): devices and FIFOs are streamed
 * into (never renamed over), symlinks are followed and their target replaced atomically, a
 * trailing slash names a folder, a model + external data pair is committed as one, and external
 * data is checked on the file actually opened (a folder swapped for a symlink between the check
 * and the open is caught).
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, Tensor, type Model } from '@onnxkit/graph';
import { AtomicFile, ExportError, ImportError, load, save, writeFileAtomic } from '@onnxkit/importer';
import { FileHandle } from '../src/file-source.js';
import { scratchDir, thrown } from '../../../test/helpers/errors.js';

const dir = scratchDir('outputs');

function model(w = 1): Model {
  const b = new GraphBuilder({ name: 'm', opset: 17 });
  const x = b.input('x', DataType.FLOAT, [4096]);
  const c = b.constant('W', Tensor.fromArray(DataType.FLOAT, [4096], new Float32Array(4096).fill(w)));
  b.output(b.op('Add', [x, c]), 'y');
  return b.build();
}

const exportError = (fn: () => unknown): ExportError => thrown(ExportError, fn);

describe('devices, FIFOs and symlinks', () => {
  it('/dev/null is written to, never replaced by a regular file', () => {
    const before = statSync('/dev/null');
    save(model(), '/dev/null');
    writeFileAtomic('/dev/null', new Uint8Array(10));
    const after = lstatSync('/dev/null');
    expect(after.isCharacterDevice()).toBe(true);
    expect(after.ino).toBe(before.ino);
    expect(readdirSync('/dev').some((n) => n.startsWith('null.tmp-'))).toBe(false);
  });

  it('a FIFO is streamed into when it has a reader, refused at once when it has none', async () => {
    const fifo = join(dir, 'out.fifo');
    execFileSync('mkfifo', [fifo]);
    expect(exportError(() => save(model(), fifo)).message).toMatch(/a FIFO with no reader/);
    const reader = spawn('cat', [fifo]);
    const chunks: Buffer[] = [];
    reader.stdout.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise((r) => reader.on('close', r));
    // Wait until cat has the FIFO open for reading.
    for (let i = 0; i < 200; i++) {
      try {
        save(model(), fifo);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    await closed;
    const got = Buffer.concat(chunks);
    expect(got.byteLength).toBeGreaterThan(16_000);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('a symlink is followed: its target is replaced atomically, the link stays a link', () => {
    const real = join(dir, 'real.onnx');
    const link = join(dir, 'link.onnx');
    writeFileSync(real, 'old');
    symlinkSync('real.onnx', link);
    save(model(2), link);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(load(real).graph.initializers.get('W')!.constValue!.toArray()[0]).toBe(2);
    symlinkSync('missing.onnx', join(dir, 'dangling.onnx'));
    expect(exportError(() => save(model(), join(dir, 'dangling.onnx'))).message).toMatch(/symlink to a missing file/);
  });

  it('a trailing slash names a folder: an existing file of that name is left alone', () => {
    const results = join(dir, 'results');
    writeFileSync(results, 'keep me');
    expect(exportError(() => save(model(), `${results}/`)).message).toMatch(/ends with a slash, so it names a folder/);
    expect(exportError(() => writeFileAtomic(`${results}/`, new Uint8Array(1))).code).toBe('EXPORT_IO');
    expect(readFileSync(results, 'utf8')).toBe('keep me');
    mkdirSync(join(dir, 'folder'));
    expect(exportError(() => save(model(), join(dir, 'folder'))).message).toMatch(/is a folder/);
  });
});

describe('model + external data pair', () => {
  it('a failing rename of the model puts the old data file back: the old pair stays intact', () => {
    const sub = mkdtempSync(join(dir, 'pair-'));
    const file = join(sub, 'm.onnx');
    save(model(1), file, { externalData: { location: 'm.data', sizeThreshold: 0 } });
    const oldModel = readFileSync(file);
    const oldData = readFileSync(join(sub, 'm.data'));
    AtomicFile.failCommitForTesting.add(file);
    try {
      expect(exportError(() => save(model(7), file, { externalData: { location: 'm.data', sizeThreshold: 0 } })).message).toMatch(/cannot rename the temporary file into place/);
    } finally {
      AtomicFile.failCommitForTesting.delete(file);
    }
    expect(readFileSync(file)).toEqual(oldModel);
    expect(readFileSync(join(sub, 'm.data'))).toEqual(oldData);
    expect(readdirSync(sub).sort()).toEqual(['m.data', 'm.onnx']);
    expect(load(file).graph.initializers.get('W')!.constValue!.toArray()[0]).toBe(1);
  });

  it('a new pair whose model rename fails leaves no data file behind', () => {
    const sub = mkdtempSync(join(dir, 'pair-'));
    const file = join(sub, 'm.onnx');
    AtomicFile.failCommitForTesting.add(file);
    try {
      exportError(() => save(model(7), file, { externalData: { location: 'm.data', sizeThreshold: 0 } }));
    } finally {
      AtomicFile.failCommitForTesting.delete(file);
    }
    expect(readdirSync(sub)).toEqual([]);
  });
});

describe('external data: check and use are the same file', () => {
  it('a folder swapped for a symlink between the check and the open is refused', () => {
    const root = mkdtempSync(join(dir, 'race-'));
    const modelDir = join(root, 'model');
    mkdirSync(join(modelDir, 'weights'), { recursive: true });
    save(model(3), join(root, 'tmp.onnx'), { externalData: { location: 'tmp.data', sizeThreshold: 0 } });
    // The model refers to wei/w.da; the outside folder holds a file of the same name.
    const bytes = readFileSync(join(root, 'tmp.onnx'));
    const patched = Buffer.from(bytes.toString('latin1').replace('tmp.data', 'wei/w.da'), 'latin1');
    writeFileSync(join(modelDir, 'model.onnx'), patched);
    mkdirSync(join(modelDir, 'wei'));
    writeFileSync(join(modelDir, 'wei', 'w.da'), readFileSync(join(root, 'tmp.data')));
    mkdirSync(join(root, 'secret'));
    writeFileSync(join(root, 'secret', 'w.da'), readFileSync(join(root, 'tmp.data')));
    FileHandle.beforeOpenForTesting = () => {
      renameSync(join(modelDir, 'wei'), join(modelDir, 'wei.old'));
      symlinkSync(join(root, 'secret'), join(modelDir, 'wei'));
      FileHandle.beforeOpenForTesting = undefined;
    };
    try {
      let err: unknown;
      try {
        load(join(modelDir, 'model.onnx'), { lazy: false }).graph.initializers.get('W')!.constValue!.toArray();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ImportError);
      expect((err as ImportError).message).toMatch(/the file opened is .*secret\/w\.da, outside it/);
    } finally {
      FileHandle.beforeOpenForTesting = undefined;
    }
    expect(existsSync(join(modelDir, 'wei.old'))).toBe(true);
  });

  // ELOOP from the O_NOFOLLOW open was always worded 'it is a symbolic link', right only when the
  // file itself became a link; a loop in a folder on the path (same errno) got the same words.
  it('ELOOP at the open says which it was: the file replaced by a link, or a loop of links on its path', () => {
    const root = mkdtempSync(join(dir, 'eloop-'));
    save(model(3), join(root, 'tmp.onnx'), { externalData: { location: 'tmp.data', sizeThreshold: 0 } });
    const bytes = readFileSync(join(root, 'tmp.onnx'));
    writeFileSync(join(root, 'model.onnx'), Buffer.from(bytes.toString('latin1').replace('tmp.data', 'wei/w.da'), 'latin1'));
    mkdirSync(join(root, 'wei'));
    writeFileSync(join(root, 'wei', 'w.da'), readFileSync(join(root, 'tmp.data')));
    const opened = (swap: () => void): ImportError => {
      FileHandle.beforeOpenForTesting = () => {
        FileHandle.beforeOpenForTesting = undefined;
        swap();
      };
      try {
        return thrown(ImportError, () => load(join(root, 'model.onnx'), { lazy: false }));
      } finally {
        FileHandle.beforeOpenForTesting = undefined;
      }
    };
    // The data file replaced by a link (to a copy inside the folder) after its path was resolved.
    const asLink = opened(() => {
      renameSync(join(root, 'wei', 'w.da'), join(root, 'wei', 'w.real'));
      symlinkSync('w.real', join(root, 'wei', 'w.da'));
    });
    expect(asLink.message).toMatch(/cannot open external data file 'wei\/w\.da': it is a symbolic link \(not followed/);
    expect(asLink.message).not.toMatch(/a loop of symbolic links/);
    renameSync(join(root, 'wei'), join(root, 'wei.1'));
    mkdirSync(join(root, 'wei'));
    writeFileSync(join(root, 'wei', 'w.da'), readFileSync(join(root, 'tmp.data')));
    // The folder replaced by a loop of links: the open fails with ELOOP too, for another reason.
    const asLoop = opened(() => {
      renameSync(join(root, 'wei'), join(root, 'wei.2'));
      symlinkSync('wei.loop', join(root, 'wei'));
      symlinkSync('wei', join(root, 'wei.loop'));
    });
    expect(asLoop.message).toMatch(/cannot open external data file 'wei\/w\.da': a loop of symbolic links/);
    expect(asLoop.message).not.toMatch(/it is a symbolic link/);
  });
});
