/** File-system helpers for the commands' outputs. */
import { closeSync, constants, fstatSync, mkdirSync, openSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Model } from '@onnxkit/graph';
import { checkExternalDataLocation, externalDataFile, modelFiles, probeWritable, resolveOutput } from '@onnxkit/importer';
import { CliError } from './errors.js';

/**
 * Creates `dir` and its missing parents, one level at a time. Node 20's
 * `mkdirSync(dir, { recursive: true })` spins forever under /proc (measured), so it is not used.
 */
export function ensureDir(dir: string): void {
  for (const d of missingDirs(dir)) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
  }
}

/** The folders ensureDir(dir) would create, outermost first; a CliError when a file stands in the way. */
function missingDirs(dir: string): string[] {
  const abs = resolve(dir);
  const missing: string[] = [];
  let cur = abs;
  for (;;) {
    try {
      if (!statSync(cur).isDirectory()) throw new CliError(`cannot write into '${dir}': '${cur}' is not a folder`);
      break;
    } catch (e) {
      if (e instanceof CliError) throw e;
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      missing.push(cur);
      const up = dirname(cur);
      if (up === cur) break;
      cur = up;
    }
  }
  return missing.reverse();
}

/** ensureDir for the folder a file will be written into. */
export function ensureParent(file: string): void {
  ensureDir(dirname(file));
}

/**
 * Whether `output` names the input file `input`, however spelled: the same path, a `./` or `..`
 * form, or a symlink to it (a write through it replaces its target). A hard link is another
 * name: every write is atomic (a new file renamed over the name), so the input stays as it was.
 * Stdin and stdout (`-`) are never the same file.
 */
export function namesInput(input: string, output: string): boolean {
  if (output === '-' || input === '-') return false;
  return resolve(output) === resolve(input) || realOrResolved(output) === realOrResolved(input);
}

/** The real path of `path`, or its absolute form when it does not exist (yet). */
export function realOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** Refuses `output` (a command's report, table, data file or model) when it names the input model `input` (see namesInput); `flag` names the option. */
export function refuseOverwritingInput(input: string, output: string | undefined, flag: string): void {
  if (output === undefined || !namesInput(input, output)) return;
  throw new CliError(`refusing to overwrite the input '${input}' with ${flag} '${output}'`, { hint: `give ${flag} another file name` });
}

/**
 * Refuses at once an output path the final write would refuse — a folder, a name ending in a
 * slash, a dangling symlink or one leading out of its folder (resolveOutput's rules) — so a
 * command does not do all its work (minutes for a large model) before saying so. `-` (stdout),
 * a new name, a file, a device or a FIFO pass (a FIFO's reader may come later). A read-only
 * file is refused, and with `externalData` (the command's --external-data: true or a location)
 * so is a read-only external data file that the save would replace beside it, and a location the
 * save would refuse (`..`, absolute, the model file itself, a folder, outside the output folder:
 * the importer's checkExternalDataLocation, save's own checks, the same words), which `convert
 * --external-data LOCATION` reported only after the import.
 */
export function refuseUnwritableOutput(output: string | undefined, externalData?: boolean | string): void {
  if (output === undefined || output === '-') return;
  missingDirs(dirname(output)); // (a file where a folder should be: the message ensureParent gives)
  const target = resolveOutput(output);
  // A file nobody may write (chmod a-w: what the user protects) was replaced all the same: the
  // atomic write renames a new file over the name, which needs only the folder's permission (and
  // root ignores modes). The mode bits, not access(), so root is refused too.
  if (target.kind === 'file') {
    if (isReadOnlyFile(target.path)) throw new CliError(`${output}: is read-only; refusing to replace it`, { hint: 'make it writable (chmod u+w) or give another file name' });
    // A folder that takes no new file (/proc, /sys, a read-only mount) was found only when the
    // work was done and the output written: a probe file, created and removed, says it now.
    probeWritable(output);
    // The external data file written beside it (`true`: the default <output>.data; a string: the
    // location given) is replaced with the model, as one pair: it was replaced even when read-only.
    if (externalData === undefined || externalData === false) return;
    checkExternalDataLocation(output, typeof externalData === 'string' ? externalData : undefined);
    const data = externalDataFile(output, typeof externalData === 'string' ? externalData : undefined);
    if (data !== undefined && isReadOnlyFile(data)) {
      throw new CliError(`${output}: its external data file ${data} is read-only; refusing to replace it`, { hint: 'make it writable (chmod u+w) or give another file name' });
    }
  }
}

/** Whether `path` is an existing regular file with no write permission bit (a new name is not). */
function isReadOnlyFile(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFile() && (st.mode & 0o222) === 0;
  } catch {
    return false; // a new name
  }
}

/**
 * Refuses `output` (`flag` names the option) when it names a file the loaded `model` came from:
 * its model file or one of its external data files, however spelled (refuseOverwritingInput
 * checks the model file's name before the load; a data file is known only after it).
 */
export function refuseOverwritingModelFiles(model: Model, output: string | undefined, flag: string): void {
  if (output === undefined || output === '-') return;
  const files = modelFiles(model);
  if (files.length === 0) return;
  const target = realOrResolved(output);
  if (!files.includes(target)) return;
  throw new CliError(`refusing to overwrite '${output}' with ${flag}: the input model reads its tensors from it`, { hint: `give ${flag} another file name` });
}

/**
 * Refuses an output (`flag` names the option) that names another file the command reads — a
 * device profile, an energy table, input or calibration data, given as `[flag, path]` — or a file
 * another of its outputs writes, however spelled (namesInput). `analyze --device prof.json -o
 * prof.json` replaced the profile with the table, `run --inputs x.npz -o x.npz` the inputs with
 * the outputs, and `analyze -o a.json --netron a.json` the table with the attachment, exit 0.
 */
export function refuseOverwritingFiles(output: string | undefined, flag: string, read: readonly (readonly [string, string | undefined])[], written: readonly (readonly [string, string | undefined])[] = []): void {
  if (output === undefined || output === '-') return;
  for (const [other, path] of read) {
    if (path !== undefined && namesInput(path, output)) throw new CliError(`refusing to overwrite the ${other} file '${path}' with ${flag} '${output}'`, { hint: `give ${flag} another file name` });
  }
  for (const [other, path] of written) {
    if (path !== undefined && namesInput(path, output)) throw new CliError(`${flag} '${output}' and ${other} '${path}' name the same file: one would replace the other`, { hint: `give ${flag} and ${other} different file names` });
  }
}

/** Refuses an output that names the input (see namesInput) unless `--in-place` allows it. */
export function refuseReplacingInput(input: string, output: string, inPlace: boolean | undefined): void {
  if (!inPlace && namesInput(input, output)) throw new CliError(`refusing to overwrite the input '${input}'`, { hint: 'write to another file, or pass --in-place' });
}

/** Largest small input file (a device profile, an energy table) read whole. */
const SMALL_FILE_BYTES = 16 << 20;

/**
 * The text of a small file the user named (`what`: "a device profile"), checked on the
 * descriptor opened: a regular file of at most 16 MiB. A FIFO would block the read forever and
 * /dev/zero or /dev/urandom never end (issue 13); the open does not block on a FIFO. System
 * errors (ENOENT, EACCES) are thrown as they come: the CLI names the path.
 */
export function readSmallFile(path: string, what: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CliError(`${path} is not a regular file; ${what} must be a .json file`);
    if (st.size > SMALL_FILE_BYTES) throw new CliError(`${path} holds ${st.size} bytes; ${what} is a small .json file (at most ${SMALL_FILE_BYTES} bytes)`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
