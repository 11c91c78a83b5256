/** Debian's python3 for the tests that check against numpy or torch (bench/lib.mjs finds it). */
// @ts-expect-error -- plain ESM module without type declarations
import { systemPython } from '../../bench/lib.mjs';

/** The interpreter the interoperability tests use (the system one, with Debian's python3-* packages). */
export const PYTHON = '/usr/bin/python3';

/** True when PYTHON exists and can import every module named (e.g. 'torch, onnx'). */
export function pythonHas(modules: string): boolean {
  return (systemPython(modules) as string | null) === PYTHON;
}
