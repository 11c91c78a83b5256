/**
 * Structurally invalid models — a cycle, two nodes writing one value name, a node reading a name
 * nothing produces, and the other invariants of packages/graph/INVARIANTS.md that
 * `verify()` checks. `optimize` refuses them (the pass manager checks its input before any pass
 * runs). The numbers of such a graph (MACs, peak memory, latency) are meaningless, so `analyze`,
 * `report`, `demo` and `batch` refuse it the same way, one line naming the node or value, exit 2.
 * `inspect` is a viewer: it still shows the model, says on one stderr line that it is invalid and
 * why, and exits 1 (a check failed; README, "The onnxkit command").
 *
 * A graph whose nodes are merely out of order (no cycle) is admitted by every command as
 * `optimize` admits it: sorted in memory (the file is not touched), with one warning line
 * (sortedInputWarning; batch notes it in its row). onnxruntime runs such a file, so its numbers
 * are the model's; ONNX forbids the order, and `onnxkit optimize` writes it sorted. One rule for
 * both: the passes' sortOutOfOrder.
 *
 * The check is the pass manager's own input check, one walk of the graph: 43–54 ms on the
 * 40,000-node /tmp/s100k chain (bench/rules.bench.mjs writeChain), whose whole `analyze` process
 * takes 1.6 s of CPU; 3 ms on ResNet-50. optimize is not checked here (its manager does it).
 */
import { verifyErrors, type Diagnostic, type Model } from '@onnxkit/graph';
import { formatDiagnostics, sortOutOfOrder, type OutOfOrderSort } from '@onnxkit/passes';
import { CliError } from './errors.js';
import { fmtInt } from './units.js';

/** The structural errors of `model` (empty when it is valid). */
export function structuralErrors(model: Model): Diagnostic[] {
  return verifyErrors(model);
}

/** "the input model is invalid, so <consequence>: [I4-topological-order] Add 'a' reads 'x', …" (optimize's words). */
export function invalidModelText(diagnostics: readonly Diagnostic[], consequence: string, subject = 'the input model'): string {
  return `${subject} is invalid, so ${consequence}: ${formatDiagnostics(diagnostics)}`;
}

/**
 * Throws a one-line error (exit 2) naming the first problems when `model` is invalid; sorts it
 * when its nodes are merely out of order (see the header) and says how many reads were.
 */
export function refuseInvalidModel(model: Model, consequence: string, subject?: string): OutOfOrderSort {
  const sorted = sortOutOfOrder(model, structuralErrors(model));
  if (sorted.diagnostics.length > 0) throw new CliError(invalidModelText(sorted.diagnostics, consequence, subject), { code: 'MODEL_INVALID', hint: 'fix the model; `onnxkit inspect` still shows it' });
  return sorted;
}

/** The one warning line (no newline) for a model whose nodes were sorted, or undefined when none were. */
export function sortedInputWarning(sorted: { readonly sortedReads: number; readonly firstSortedRead?: string | undefined }, subject = "the input's"): string | undefined {
  const n = sorted.sortedReads;
  if (n === 0) return undefined;
  return `onnxkit: warning: ${subject} nodes were out of order (${fmtInt(n)} read${n === 1 ? '' : 's'} before ${n === 1 ? 'its producer' : 'their producers'}, e.g. ${sorted.firstSortedRead}), which ONNX forbids; they were sorted topologically`;
}
