/**
 * The input model is never replaced by a command's output (a report, a table, a Netron
 * attachment, a run's .npz, a quantized model) however the same file is named: `-o m.onnx`,
 * `./m.onnx`, a symlink to it. analyze, report and run wrote their output over the model;
 * quantize (and optimize once its result is a new model: edge with calibration) compared the
 * paths only, so a symlink to the input was written through.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { load, save } from '@onnxkit/importer';
import { BIN, cliRunner, expectOneLineError, FIXTURE } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'onnxkit-output-safety-'));
const onnxkit = cliRunner(tmp);
const model = join(tmp, 'm.onnx');
symlinkSync('m.onnx', join(tmp, 'link.onnx'));
const original = readFileSync(FIXTURE);

describe('a command never writes its output over the input model', () => {
  const cases: [string, string[]][] = [
    ['analyze -o', ['analyze', 'm.onnx', '--json', '-o', 'm.onnx']],
    ['analyze -o ./', ['analyze', 'm.onnx', '-o', './m.onnx']],
    ['analyze --netron', ['analyze', 'm.onnx', '--netron', 'm.onnx']],
    ['analyze -o a symlink to the input', ['analyze', 'm.onnx', '-o', 'link.onnx']],
    ['report -o', ['report', 'm.onnx', '-o', 'm.onnx', '--no-bench']],
    ['run -o', ['run', 'm.onnx', '-o', 'm.onnx']],
    ['quantize -o a symlink to the input', ['quantize', 'm.onnx', '-o', 'link.onnx', '-q']],
    ['optimize -o a symlink to the input', ['optimize', 'm.onnx', '-o', 'link.onnx', '-q']],
    // convert was safe (the importer refuses its own source) but named the library's option in its hint
    ['convert -o a symlink to the input', ['convert', 'm.onnx', '-o', 'link.onnx', '-q']],
  ];
  for (const [what, args] of cases) {
    it(what, () => {
      copyFileSync(FIXTURE, model); // (each case from the original, whatever an earlier one did)
      const r = onnxkit(args);
      expectOneLineError(r, 2, /refusing to overwrite the input/);
      expect(r.stderr).not.toContain('inPlace');
      expect(readFileSync(model).equals(original)).toBe(true);
    }, 120_000);
  }
});

// The other files a command reads (a device profile, an energy table, input or calibration data)
// were not inputs to the check: `analyze --device prof.json -o prof.json` replaced the profile with
// the table, `run --inputs x.npz -o x.npz` the inputs with the outputs, exit 0; and analyze's two
// outputs (-o and --netron, whose default is <model>.json) could name one file, the table lost.
describe('a command never writes its output over another file it reads, or over its other output', () => {
  const files: Record<string, string> = {
    'prof.json': JSON.stringify({ id: 'prof', version: '2026-12-01', peakFlops: { fp32: 8e10 }, memoryBandwidth: 2e10, source: 'a test' }),
    'energy.json': JSON.stringify({ source: 'a test', dramReadPj: 640, sramReadPj: 5, multPj: 3.7, addPj: 0.9 }),
  };
  const cases: [string, string[], RegExp][] = [
    ['analyze -o the --device profile', ['analyze', 'm.onnx', '--device', 'prof.json', '-o', 'prof.json'], /^onnxkit: refusing to overwrite the --device file 'prof.json' with -o 'prof.json'/],
    ['analyze --netron the --device profile (./ spelling)', ['analyze', 'm.onnx', '--device', './prof.json', '--netron', 'prof.json'], /refusing to overwrite the --device file '.\/prof.json' with --netron 'prof.json'/],
    ['analyze -o the --energy-table', ['analyze', 'm.onnx', '--energy-table', 'energy.json', '-o', './energy.json'], /refusing to overwrite the --energy-table file 'energy.json'/],
    ['analyze -o and --netron the same file', ['analyze', 'm.onnx', '-o', 'same.json', '--netron', './same.json'], /-o 'same.json' and --netron '.\/same.json' name the same file/],
    ['analyze -o the default --netron file', ['analyze', 'm.onnx', '-o', 'm.onnx.json', '--netron'], /-o 'm.onnx.json' and --netron 'm.onnx.json' name the same file/],
    ['run -o its --inputs', ['run', 'm.onnx', '--inputs', 'input=x.npz', '-o', 'x.npz'], /refusing to overwrite the --inputs file 'x.npz' with -o 'x.npz'/],
    ['quantize -o its --calibration file', ['quantize', 'm.onnx', '--calibration', 'x.npz', '-o', 'x.npz'], /refusing to overwrite the --calibration file 'x.npz'/],
    ['optimize --preset edge -o its --calibration file', ['optimize', 'm.onnx', 'x.npz', '--preset', 'edge', '--calibration', 'x.npz'], /refusing to overwrite the --calibration file 'x.npz'/],
    ['report -o the --device profile', ['report', 'm.onnx', '--device', 'prof.json', '-o', 'prof.json', '--no-bench'], /refusing to overwrite the --device file 'prof.json'/],
    ['batch -o the --device profile', ['batch', '.', '--device', 'prof.json', '-o', 'prof.json'], /refusing to overwrite the --device file 'prof.json'/],
  ];
  for (const [what, args, pattern] of cases) {
    it(what, () => {
      copyFileSync(FIXTURE, model);
      for (const [name, text] of Object.entries(files)) writeFileSync(join(tmp, name), text);
      writeFileSync(join(tmp, 'x.npz'), 'not really an npz: it must stay as it is');
      rmSync(join(tmp, 'same.json'), { force: true });
      rmSync(join(tmp, 'm.onnx.json'), { force: true });
      const r = onnxkit(args);
      expectOneLineError(r, 2, pattern);
      // Refused before any work: no progress line first.
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      for (const [name, text] of Object.entries(files)) expect(readFileSync(join(tmp, name), 'utf8')).toBe(text);
      expect(readFileSync(join(tmp, 'x.npz'), 'utf8')).toBe('not really an npz: it must stay as it is');
      expect(existsSync(join(tmp, 'same.json')) || existsSync(join(tmp, 'm.onnx.json'))).toBe(false);
    }, 120_000);
  }
});

// stdout redirected to a full disk (`> out.json`): Node reports the failed write as an 'error'
// event on process.stdout, and the handler meant for `| head` (EPIPE) swallowed every other
// error, so the command exited 0 with its output lost.
describe.skipIf(!existsSync('/dev/full'))('a failed write to stdout is an error, not exit 0', () => {
  const cases: [string, string[]][] = [
    ['analyze (table)', ['analyze', FIXTURE]],
    ['analyze --json', ['analyze', FIXTURE, '--json']],
    ['inspect', ['inspect', FIXTURE]],
    ['passes --json', ['passes', '--json']],
    ['optimize -o -', ['optimize', FIXTURE, '-o', '-', '-q']],
    ['optimize --json', ['optimize', FIXTURE, '-o', 'full.opt.onnx', '--json']],
  ];
  for (const [what, args] of cases) {
    it(what, () => {
      const full = openSync('/dev/full', 'w');
      try {
        const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, encoding: 'utf8', stdio: ['ignore', full, 'pipe'], env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '' }, timeout: 120_000 });
        expectOneLineError({ code: r.status, signal: r.signal, stdout: '', stderr: r.stderr }, 2, /cannot write to stdout: no space left on device/);
      } finally {
        closeSync(full);
      }
    }, 120_000);
  }
});

// An output the final write refuses (a folder, a name ending in a slash, a dangling symlink) was
// refused only after the whole job: import, passes, quantization, onnxruntime runs (minutes on a
// large model). It is refused before the model is read: no progress line comes first.
describe('an output the write would refuse is refused before any work', () => {
  mkdirSync(join(tmp, 'folder.json'));
  symlinkSync('missing/target.onnx', join(tmp, 'dangling.onnx'));
  // A file nobody may write was replaced (the rename needs only the folder's permission), by root too.
  writeFileSync(join(tmp, 'read-only.onnx'), 'protected');
  chmodSync(join(tmp, 'read-only.onnx'), 0o444);
  symlinkSync('read-only.onnx', join(tmp, 'link-to-read-only.onnx'));
  const cases: [string, string[], RegExp][] = [
    ['optimize -o FOLDER', ['optimize', FIXTURE, '-o', 'folder.json'], /folder\.json: is a folder/],
    ['convert -o DIR/', ['convert', FIXTURE, '-o', 'new-dir/'], /ends with a slash/],
    ['quantize -o a dangling symlink', ['quantize', FIXTURE, '-o', 'dangling.onnx'], /symlink to a missing file/],
    ['report -o FOLDER', ['report', FIXTURE, '-o', 'folder.json', '--no-bench'], /is a folder/],
    ['run -o FOLDER', ['run', FIXTURE, '-o', 'folder.json'], /is a folder/],
    ['zoo -o FOLDER', ['zoo', 'alexnet', '-o', 'folder.json'], /is a folder/],
    ['analyze -o FOLDER', ['analyze', FIXTURE, '-o', 'folder.json'], /is a folder/],
    ['analyze --netron FOLDER', ['analyze', FIXTURE, '--netron', 'folder.json'], /is a folder/],
    ['batch -o FOLDER', ['batch', join(FIXTURE, '..'), '-o', 'folder.json'], /is a folder/],
    ['optimize -o a read-only file', ['optimize', FIXTURE, '-o', 'read-only.onnx'], /^onnxkit: read-only\.onnx: is read-only; refusing to replace it \(make it writable \(chmod u\+w\) or give another file name\)$/],
    ['convert -o a symlink to a read-only file', ['convert', FIXTURE, '-o', 'link-to-read-only.onnx'], /link-to-read-only\.onnx: is read-only/],
    ['analyze -o a read-only file', ['analyze', FIXTURE, '-o', 'read-only.onnx'], /is read-only/],
    // A folder that takes no new file (/proc; /sys, a read-only mount): access(2) says writable to
    // root, and the temporary file's create failed only after the work.
    ['optimize -o a file in /proc', ['optimize', FIXTURE, '-o', '/proc/onnxkit-out.onnx'], /^onnxkit: \/proc\/onnxkit-out\.onnx: cannot create a file in \/proc: the folder does not take new files$/],
    ['analyze -o a file in /proc', ['analyze', FIXTURE, '-o', '/proc/onnxkit-out.json'], /cannot create a file in \/proc/],
  ];
  for (const [what, args, pattern] of cases) {
    it(what, () => {
      const r = onnxkit(args);
      expectOneLineError(r, 2, pattern);
      expect(r.stderr).not.toContain('✔');
      expect(r.stdout).toBe('');
      expect(existsSync(join(tmp, 'new-dir'))).toBe(false);
      expect(readFileSync(join(tmp, 'read-only.onnx'), 'utf8')).toBe('protected');
    }, 120_000);
  }
});

// The read-only refusal looked at the model file only: its external data file (--external-data,
// <output>.data or the location given) was replaced even when read-only, the pair committed whole.
describe('a read-only external data file beside the output is refused before any work, the old pair intact', () => {
  const ro = join(tmp, 'ro');
  mkdirSync(ro);
  const protect = (name: string, text: string): void => {
    writeFileSync(join(ro, name), text);
    chmodSync(join(ro, name), 0o444);
  };
  writeFileSync(join(ro, 'out.onnx'), 'old model'); // writable: only its data file is protected
  protect('out.onnx.data', 'old data');
  protect('named.bin', 'named data');
  protect('real.onnx.data', 'data of a symlink target');
  writeFileSync(join(ro, 'real.onnx'), 'old target');
  symlinkSync('real.onnx', join(ro, 'link.onnx'));
  const cases: [string, string[], RegExp][] = [
    ['optimize --external-data', ['optimize', FIXTURE, '-o', 'ro/out.onnx', '--external-data'], /^onnxkit: ro\/out\.onnx: its external data file .*ro\/out\.onnx\.data is read-only; refusing to replace it \(make it writable \(chmod u\+w\) or give another file name\)$/],
    ['optimize IN OUT --external-data (positional output)', ['optimize', FIXTURE, 'ro/out.onnx', '--external-data'], /out\.onnx\.data is read-only/],
    ['convert --external-data LOCATION', ['convert', FIXTURE, '-o', 'ro/new.onnx', '--external-data', 'named.bin'], /ro\/new\.onnx: its external data file .*ro\/named\.bin is read-only/],
    ['convert --external-data (default location)', ['convert', FIXTURE, '-o', 'ro/out.onnx', '--external-data'], /out\.onnx\.data is read-only/],
    ['zoo --external-data', ['zoo', 'alexnet', '-o', 'ro/out.onnx', '--external-data'], /out\.onnx\.data is read-only/],
    ['optimize -o a symlink --external-data: the data file is beside the link\'s target', ['optimize', FIXTURE, '-o', 'ro/link.onnx', '--external-data'], /real\.onnx\.data is read-only/],
  ];
  for (const [what, args, pattern] of cases) {
    it(what, () => {
      const r = onnxkit(args);
      expectOneLineError(r, 2, pattern);
      expect(r.stderr).not.toContain('✔');
      expect(readFileSync(join(ro, 'out.onnx'), 'utf8')).toBe('old model');
      expect(readFileSync(join(ro, 'out.onnx.data'), 'utf8')).toBe('old data');
      expect(readFileSync(join(ro, 'named.bin'), 'utf8')).toBe('named data');
      expect(readFileSync(join(ro, 'real.onnx.data'), 'utf8')).toBe('data of a symlink target');
      expect(readFileSync(join(ro, 'real.onnx'), 'utf8')).toBe('old target');
      expect(readdirSync(ro).sort()).toEqual(['link.onnx', 'named.bin', 'out.onnx', 'out.onnx.data', 'real.onnx', 'real.onnx.data']);
    }, 120_000);
  }

  it('without --external-data a read-only <output>.data is not the command\'s business', () => {
    const r = onnxkit(['convert', FIXTURE, '-o', 'ro/plain.onnx', '-q']);
    expect(r.code, r.stderr).toBe(0);
    rmSync(join(ro, 'plain.onnx'));
  });
});

// convert --external-data LOCATION: a location the save refuses (a '..' segment, absolute, the
// model file itself, a folder) was reported only after the import (the whole read of the model).
// Now it is refused before any work (fs-utils refuseUnwritableOutput → the importer's
// checkExternalDataLocation, save's own checks), one line, exit 2, nothing written.
describe('convert --external-data: a location the save would refuse is refused before any work', () => {
  const loc = join(tmp, 'loc');
  mkdirSync(join(loc, 'a-folder'), { recursive: true });
  const cases: [string, string, RegExp][] = [
    ['a .. segment', '../x.data', /^onnxkit: loc\/m\.onnx: external data location '\.\.\/x\.data' with a '\.\.' segment; only paths inside the model's folder are allowed \(pass a file name inside the output folder\)$/],
    ['a .. segment inside', 'sub/../x.data', /external data location 'sub\/\.\.\/x\.data' with a '\.\.' segment/],
    ['absolute', '/tmp/x.data', /absolute external data location '\/tmp\/x\.data'/],
    ['the model itself', 'm.onnx', /^onnxkit: loc\/m\.onnx: external data location 'm\.onnx' is the model file itself$/],
    ['the model itself, spelled ./', './m.onnx', /external data location '\.\/m\.onnx' is the model file itself/],
    ['a folder', 'a-folder', /external data location 'a-folder' is a directory/],
  ];
  for (const [what, location, pattern] of cases) {
    it(what, () => {
      const r = onnxkit(['convert', FIXTURE, '-o', 'loc/m.onnx', '--external-data', location]);
      expectOneLineError(r, 2, pattern);
      expect(r.stderr).not.toContain('✔'); // before the import
      expect(readdirSync(loc)).toEqual(['a-folder']);
    }, 120_000);
  }
  it('into a folder -o would create: the spelling is checked, the folder not created', () => {
    const r = onnxkit(['convert', FIXTURE, '-o', 'loc/new/m.onnx', '--external-data', '../x.data']);
    expectOneLineError(r, 2, /external data location '\.\.\/x\.data' with a '\.\.' segment/);
    expect(r.stderr).not.toContain('✔');
    expect(existsSync(join(loc, 'new'))).toBe(false);
  });
  it('a good location still writes the pair', () => {
    const r = onnxkit(['convert', FIXTURE, '-o', 'loc/ok.onnx', '--external-data', 'ok.bin', '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(loc).sort()).toEqual(['a-folder', 'ok.bin', 'ok.onnx']);
  });
});

// The model's weights may live in an external data file beside it. Only the model file's name was
// compared with the output: analyze, report, run and quantize -o w.data replaced the weights with
// a table, an HTML page, an .npz or another model (and optimize/convert refused only after the
// whole job, naming the library's { inPlace: true }).
describe('a command never writes its output over the input model\'s external data', () => {
  const ext = join(tmp, 'ext');
  mkdirSync(ext);
  save(load(FIXTURE), join(ext, 'm.onnx'), { externalData: { location: 'w.data', sizeThreshold: 0 } });
  symlinkSync('w.data', join(ext, 'w-link.data'));
  const weights = readFileSync(join(ext, 'w.data'));
  const cases: [string, string[]][] = [
    ['analyze -o', ['analyze', 'ext/m.onnx', '-o', 'ext/w.data']],
    ['analyze --netron', ['analyze', 'ext/m.onnx', '--netron', 'ext/./w.data']],
    ['report -o', ['report', 'ext/m.onnx', '-o', 'ext/w.data', '--no-bench']],
    ['report --optimized … -o', ['report', FIXTURE, '--optimized', 'ext/m.onnx', '-o', 'ext/w.data', '--no-bench', '--no-verify']],
    ['run -o', ['run', 'ext/m.onnx', '-o', 'ext/w.data']],
    ['quantize -o a symlink to it', ['quantize', 'ext/m.onnx', '-o', 'ext/w-link.data', '-q']],
    ['optimize -o', ['optimize', 'ext/m.onnx', '-o', 'ext/w.data', '-q']],
    ['convert -o', ['convert', 'ext/m.onnx', '-o', 'ext/w.data', '-q']],
  ];
  for (const [what, args] of cases) {
    it(what, () => {
      const r = onnxkit(args);
      expectOneLineError(r, 2, /refusing to overwrite '.*w(-link)?\.data' with (-o|--netron): the input model reads its tensors from it/);
      expect(readFileSync(join(ext, 'w.data')).equals(weights)).toBe(true);
    }, 120_000);
  }

  it('convert --external-data naming the data file it reads: the CLI\'s --in-place in the hint', () => {
    const r = onnxkit(['convert', 'ext/m.onnx', '-o', 'ext/m2.onnx', '--external-data', 'w.data']);
    expectOneLineError(r, 2, /external data file 'w\.data' is a file this model still reads tensors from.*--in-place/);
    expect(r.stderr).not.toContain('inPlace');
    expect(readFileSync(join(ext, 'w.data')).equals(weights)).toBe(true);
  });
});

// `app -o DIR` emptied any folder holding an index.html, taken for a previous app build: a web
// site's folder (or `app -o .` in a project) lost every file. A previous build is now what the
// manifest onnxkit app writes says it is, and only the files it lists are replaced.
describe('app -o never empties a folder it did not write', () => {
  it('a folder with its own index.html is refused, every file kept', () => {
    const site = join(tmp, 'site');
    mkdirSync(site);
    writeFileSync(join(site, 'index.html'), '<html>mine</html>');
    writeFileSync(join(site, 'thesis.tex'), 'precious');
    expectOneLineError(onnxkit(['app', '-o', 'site']), 2, /refusing to write into 'site': it is not empty and holds no previous app build/);
    expect(readdirSync(site).sort()).toEqual(['index.html', 'thesis.tex']);
    expect(readFileSync(join(site, 'index.html'), 'utf8')).toBe('<html>mine</html>');
  });

  it('a previous build is replaced; a file added beside it and names out of the folder in its manifest are kept', () => {
    expect(onnxkit(['app', '-o', 'built']).code).toBe(0);
    writeFileSync(join(tmp, 'built', 'notes.txt'), 'mine');
    writeFileSync(join(tmp, 'outside.txt'), 'mine too');
    const manifest = JSON.parse(readFileSync(join(tmp, 'built', '.onnxkit-app.json'), 'utf8')) as { files: string[] };
    writeFileSync(join(tmp, 'built', '.onnxkit-app.json'), JSON.stringify({ files: [...manifest.files, '../outside.txt', join(tmp, 'outside.txt')] }));
    const r = onnxkit(['app', '-o', 'built']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(tmp, 'built', 'notes.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(join(tmp, 'outside.txt'), 'utf8')).toBe('mine too');
    expect(existsSync(join(tmp, 'built', 'index.html'))).toBe(true);
  });

  it('the prebuilt app folder itself (or a folder holding it) is refused', () => {
    const prebuilt = join(BIN, '..', '..', 'dist', 'app');
    expectOneLineError(onnxkit(['app', '-o', prebuilt]), 2, /it is \(or holds\) the app's own prebuilt folder/);
    expectOneLineError(onnxkit(['app', '-o', join(prebuilt, '..')]), 2, /it is \(or holds\) the app's own prebuilt folder/);
    expect(existsSync(join(prebuilt, 'index.html'))).toBe(true);
  });
});
