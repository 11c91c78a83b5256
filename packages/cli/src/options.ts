/** Option parsing shared by the runtime-facing commands (verify, bench, run). */
import type { InputFile } from '@onnxkit/runtime';
import { CliError } from './errors.js';

/** `--inputs a.npz x=input.npy` → InputFile[] (NAME=PATH names a single-tensor file). */
export function parseInputFiles(specs: string[] | undefined): InputFile[] | undefined {
  if (!specs || specs.length === 0) return undefined;
  return specs.map((s) => {
    const eq = s.indexOf('=');
    if (eq > 0 && !s.slice(0, eq).includes('/')) return { name: s.slice(0, eq), path: s.slice(eq + 1) };
    return s;
  });
}

/** `--tolerance out=1e-3:1e-2` (atol:rtol) → per-output overrides. */
export function parsePerOutput(specs: string[] | undefined): Record<string, { atol?: number; rtol?: number }> | undefined {
  if (!specs || specs.length === 0) return undefined;
  const out: Record<string, { atol?: number; rtol?: number }> = {};
  for (const s of specs) {
    const m = /^(.+)=([^:]*):([^:]*)$/.exec(s);
    if (!m) throw new CliError(`--tolerance '${s}' is not NAME=ATOL:RTOL`, { hint: 'for example --tolerance logits=1e-4:1e-3' });
    const [, name, a, r] = m;
    const entry: { atol?: number; rtol?: number } = {};
    if (a !== '') entry.atol = positive('--tolerance atol', a!);
    if (r !== '') entry.rtol = positive('--tolerance rtol', r!);
    out[name!] = entry;
  }
  return out;
}

export function positive(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new CliError(`${flag} expects a non-negative number, got '${v}'`);
  return n;
}

export function optLevel(v: string | undefined): 'disabled' | 'basic' | 'extended' | 'all' | undefined {
  if (v === undefined) return undefined;
  if (v === 'disabled' || v === 'basic' || v === 'extended' || v === 'all') return v;
  throw new CliError(`--ort-opt '${v}' is not one of disabled, basic, extended, all`);
}
