/**
 * Test-case minimisation for findings: first structure-aware (drop whole protobuf fields,
 * biggest first, keeping enclosing lengths consistent), then byte-level delta debugging (drop
 * chunks, halving their size). A reduction is kept when the input still produces the same
 * finding signature. Bounded by a time budget; the smallest input found so far is returned.
 */
import { containerOf, indexMessage, replaceConsistent } from './wire.js';

export interface MinimizeResult {
  readonly bytes: Uint8Array;
  readonly attempts: number;
}

export async function minimize(input: Uint8Array, stillFails: (b: Uint8Array) => Promise<boolean>, seconds: number): Promise<MinimizeResult> {
  const deadline = performance.now() + seconds * 1000;
  let best = input;
  let attempts = 0;
  const tryCandidate = async (b: Uint8Array): Promise<boolean> => {
    attempts++;
    if (b.length >= best.length) return false;
    if (await stillFails(b)) {
      best = b;
      return true;
    }
    return false;
  };

  // Structure: remove fields, largest first, restarting after each success.
  let progress = true;
  while (progress && performance.now() < deadline) {
    progress = false;
    const ix = indexMessage(best);
    if (ix === null) break;
    const order = [...ix.fields].sort((a, b) => b.end - b.start - (a.end - a.start));
    for (const f of order) {
      if (performance.now() >= deadline) break;
      if (await tryCandidate(replaceConsistent(ix, containerOf(ix, f), f.start, f.end - f.start, new Uint8Array(0)))) {
        progress = true;
        break;
      }
    }
  }

  // Bytes: classic ddmin-style chunk removal.
  for (let chunk = Math.max(1, best.length >> 1); chunk >= 1 && performance.now() < deadline; chunk >>= 1) {
    let at = 0;
    while (at < best.length && performance.now() < deadline) {
      const cand = new Uint8Array(best.length - Math.min(chunk, best.length - at));
      cand.set(best.subarray(0, at), 0);
      cand.set(best.subarray(at + chunk), at);
      if (!(await tryCandidate(cand))) at += chunk;
    }
    if (chunk === 1) break;
  }
  return { bytes: best, attempts };
}
