/**
 * Shared test helpers for the packages' tests: catching the typed error a call throws or a
 * promise rejects with, and a temporary folder removed after the test file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';

/** An error class, abstract or not. */
type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

/** The error `fn` throws, checked to be a `kind`; the test fails if `fn` returns. */
export function thrown<E extends Error>(kind: ErrorClass<E>, fn: () => unknown): E {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(kind);
    return e as E;
  }
  throw new Error(`expected ${/^[AEIOU]/.test(kind.name) ? 'an' : 'a'} ${kind.name}`);
}

/** What `p` rejects with; the test fails if `p` resolves. */
export async function rejection<E extends Error = Error>(p: Promise<unknown>): Promise<E> {
  try {
    await p;
  } catch (e) {
    return e as E;
  }
  throw new Error('expected a rejection');
}

/** A fresh folder `onnxkit-<tag>-XXXXXX` under the system temp folder, removed after the file's tests. */
export function scratchDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `onnxkit-${tag}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
