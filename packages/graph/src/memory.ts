/**
 * How much memory a step may take, and how much is taken: the importer's decode and the
 * analysis ask it as they go and stop with a typed error past `limitBytes`, instead of running
 * the process out of memory (V8 aborts the process: a signal, not an exception). The caller
 * supplies the measure (the CLI: V8's used heap against a share of its limit).
 */
export interface MemoryBudget {
  limitBytes: number;
  usedBytes(): number;
  /** What the user can do about it (the error's hint). */
  hint?: string;
}
