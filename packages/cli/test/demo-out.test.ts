// demo without a MODEL made --out twice on the embedded model's path: once to save the model in it,
// and again after the import (the ensureDir there is for a MODEL given, so that a model demo
// refuses leaves no empty folder behind): one extra walk of the path. It is made once per run now.
// In process, with the job itself stubbed out: what is checked happens before it.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, vi } from 'vitest';
import type * as FsUtils from '../src/fs-utils.js';
import type * as Job from '../src/job.js';

const made = vi.hoisted(() => [] as string[]);
vi.mock('../src/fs-utils.js', async (original) => {
  const real = await original<typeof FsUtils>();
  return {
    ...real,
    ensureDir: (dir: string): void => {
      made.push(dir);
      real.ensureDir(dir);
    },
  };
});
vi.mock('../src/job.js', async (original) => ({
  ...(await original<typeof Job>()),
  runJob: (): Promise<never> => Promise.reject(new Error('stop: the job is not under test')),
}));

const { default: demo } = await import('../src/commands/demo.js');
type DemoOptions = Parameters<typeof demo>[1];

it('demo makes --out once on the embedded model\'s path, and once for a MODEL given', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'onnxkit-demo-out-')), 'out');
  const opts = { out, device: 'jetson-agx-orin', quantize: false, preset: 'default', iterations: 1, threads: 1, seed: 0, quiet: true } as unknown as DemoOptions;
  await expect(demo(undefined, opts)).rejects.toThrow(/stop: the job is not under test/);
  expect(existsSync(join(out, 'mobilenetv2.onnx'))).toBe(true);
  expect(made).toEqual([out]);
  made.length = 0;
  const other = join(out, 'other');
  await expect(demo(join(out, 'mobilenetv2.onnx'), { ...opts, out: other } as DemoOptions)).rejects.toThrow(/stop: the job is not under test/);
  expect(made).toEqual([other]);
  expect(existsSync(other)).toBe(true);
}, 120_000);
