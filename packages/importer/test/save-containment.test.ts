/**
 * Path containment on the write side (issue 7 part 2), beyond external-data.test.ts: links
 * planted where the output or its data file will go are replaced, never written through; a save
 * that cannot read a tensor writes nothing anywhere; a save without external data embeds the
 * tensors instead of carrying the source's locations into the new folder.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffModels } from '@onnxkit/graph';
import { ExportError, decode, load, save } from '@onnxkit/importer';
import { cleanup, externalModel, mlp, tempDir } from './helpers/files.js';

afterAll(cleanup);

describe('save never writes through links planted at its targets', () => {
  // Issue 13: the link is not replaced either (that destroyed what it named); the save is refused.
  it.each([['the model file'], ['the data file']])('a symlink at %s pointing outside the folder is refused, the outside file untouched', (which) => {
    const victimDir = tempDir('victim');
    const victim = join(victimDir, 'precious.bin');
    writeFileSync(victim, 'do not overwrite');
    const out = tempDir('out');
    const name = which === 'the model file' ? 'm.onnx' : 'm.onnx.data';
    symlinkSync(victim, join(out, name));
    const m = mlp(32);
    expect(() => save(m, join(out, 'm.onnx'), { externalData: true })).toThrow(/is a symlink to .*precious\.bin, outside its folder; refusing to write through it/);
    expect(readFileSync(victim, 'utf8')).toBe('do not overwrite');
    expect(readdirSync(victimDir)).toEqual(['precious.bin']);
    expect(lstatSync(join(out, name)).isSymbolicLink()).toBe(true);
    expect(readdirSync(out)).toEqual([name]);
  });
});

describe('a save that cannot read a tensor', () => {
  it('writes nothing, inside or outside the output folder, and says which tensor', () => {
    // Decoded from bytes with no folder: the external tensor has nowhere to be read from.
    const m = decode(externalModel([['location', 'weights.bin']]));
    const out = tempDir('out');
    let err: unknown;
    try {
      save(m, join(out, 'm.onnx'), { externalData: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ExportError);
    expect((err as ExportError).message).toContain("tensor 'w'");
    expect(readdirSync(out)).toEqual([]);
  });
});

describe('a save without external data of a model that had some', () => {
  it('embeds the tensors: the new file refers to no location of the old folder', () => {
    const src = tempDir('src');
    const m = mlp(64);
    save(m, join(src, 'm.onnx'), { externalData: true });
    const loaded = load(join(src, 'm.onnx'));
    expect(loaded.graph.initializers.get('w1')!.constValue!.external).toBeDefined();
    const out = tempDir('out');
    mkdirSync(join(out, 'sub'));
    // A file where the old location would point, had it been carried over.
    writeFileSync(join(out, 'm.onnx.data'), new Uint8Array(1 << 16).fill(0xee));
    save(loaded, join(out, 'copy.onnx'));
    const copy = load(join(out, 'copy.onnx'));
    for (const v of copy.graph.initializers.values()) expect(v.constValue!.external, v.name).toBeUndefined();
    expect(diffModels(m, copy)).toEqual([]);
    expect(existsSync(join(out, 'copy.onnx.data'))).toBe(false);
  });
});
