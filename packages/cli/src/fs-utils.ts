/** File-system helpers for the commands' outputs. */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CliError } from './errors.js';

/**
 * Creates `dir` and its missing parents, one level at a time. Node 20's
 * `mkdirSync(dir, { recursive: true })` spins forever under /proc (measured), so it is not used.
 */
export function ensureDir(dir: string): void {
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
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
  }
}

/** ensureDir for the folder a file will be written into. */
export function ensureParent(file: string): void {
  ensureDir(dirname(file));
}

/**
 * Refuses `output` (a command's report, table or data file) when it names the input model
 * `input`, however spelled: the same path, `./` and `..` forms, a symlink or a hard link to it.
 * `flag` names the option in the message. Stdin and stdout (`-`) are never the same file.
 */
export function refuseOverwritingInput(input: string, output: string | undefined, flag: string): void {
  if (output === undefined || output === '-' || input === '-') return;
  if (resolve(output) !== resolve(input) && !sameFile(input, output)) return;
  throw new CliError(`refusing to overwrite the input '${input}' with ${flag} '${output}'`, { hint: `give ${flag} another file name` });
}

/** Whether two existing paths are one file (same device and inode). */
function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}
