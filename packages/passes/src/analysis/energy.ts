/**
 * The lecture's other costs (MIT EfficientML.ai lecture 2): energy from the operations and the
 * data movement, and the memory training needs.
 *
 * Energy per layer = MACs × (multiply + add) + the other element-wise FLOPs × add
 *                  + 2 SRAM reads per MAC (weight and activation operands from on-chip memory)
 *                  + the roofline's bytes moved (weights, input and output activations) as 32-bit DRAM reads.
 * With Horowitz's 45 nm numbers a DRAM read (640 pJ) costs ~170 float multiplies: data movement,
 * not arithmetic, dominates — the lecture's point. The table is per 32-bit word at fp32; a device
 * may supply its own (`energy` in a device profile, or AnalyzeOptions.energy).
 */
import { DeviceProfileError } from './errors.js';

export interface EnergyTable {
  /** Where the numbers come from. */
  readonly source: string;
  /** Picojoules for one 32-bit read from DRAM. */
  readonly dramReadPj: number;
  /** Picojoules for one 32-bit read from on-chip SRAM. */
  readonly sramReadPj: number;
  /** Picojoules for one float multiply. */
  readonly multPj: number;
  /** Picojoules for one float add. */
  readonly addPj: number;
}

/** Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014, 45 nm, 0.9 V. */
export const HOROWITZ_45NM: EnergyTable = Object.freeze({
  source: 'M. Horowitz, "Computing\'s energy problem (and what we can do about it)", ISSCC 2014, 45 nm (32-bit words, 8 KB SRAM)',
  dramReadPj: 640,
  sramReadPj: 5,
  multPj: 3.7,
  addPj: 0.9,
});

export const ENERGY_CONVENTION =
  'Energy: MACs × (multiply + add) + other element-wise FLOPs × add + 2 SRAM reads per MAC + bytes moved (weights, input and output activations) / 4 as 32-bit DRAM reads; per 32-bit word, fp32.';

export interface LayerEnergy {
  /** Joules; null when MACs, FLOPs or bytes are unknown. */
  readonly joules: number | null;
  readonly computeJoules: number | null;
  readonly sramJoules: number | null;
  readonly dramJoules: number | null;
}

const PJ = 1e-12;

/** The energy of one layer from its MACs, FLOPs and bytes moved. */
export function layerEnergy(t: EnergyTable, macs: number | null, flops: number | null, bytesMoved: number | null): LayerEnergy {
  const compute = macs === null || flops === null ? null : (macs * (t.multPj + t.addPj) + Math.max(0, flops - 2 * macs) * t.addPj) * PJ;
  const sram = macs === null ? null : 2 * macs * t.sramReadPj * PJ;
  const dram = bytesMoved === null ? null : (bytesMoved / 4) * t.dramReadPj * PJ;
  const joules = compute === null || sram === null || dram === null ? null : compute + sram + dram;
  return { joules, computeJoules: compute, sramJoules: sram, dramJoules: dram };
}

/** Reads an energy table (a device profile's `energy`, or a file of its own). */
export function parseEnergyTable(json: unknown, where = 'energy table'): EnergyTable {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new DeviceProfileError(`${where} must be an object like { "source": "…", "dramReadPj": 640, "sramReadPj": 5, "multPj": 3.7, "addPj": 0.9 }`);
  }
  const r = json as Record<string, unknown>;
  const num = (k: keyof EnergyTable): number => {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new DeviceProfileError(`${where}: ${k} must be a non-negative number of picojoules, got ${JSON.stringify(v)}`);
    return v;
  };
  if (typeof r.source !== 'string' || r.source.trim() === '') throw new DeviceProfileError(`${where}: give a source for the numbers (a paper or a measurement)`);
  return { source: r.source, dramReadPj: num('dramReadPj'), sramReadPj: num('sramReadPj'), multPj: num('multPj'), addPj: num('addPj') };
}

/** Memory to train the model: weights, gradients, optimizer state and the stored activations. */
export interface TrainingMemory {
  /** The batch size the activations are given for. */
  readonly batch: number;
  /** Bytes per stored value (fp32 training: 4). */
  readonly bytesPerValue: number;
  readonly weightsBytes: number;
  readonly gradientsBytes: number;
  /** Optimizer state: SGD with momentum keeps one buffer per parameter, Adam two (m and v). */
  readonly optimizerBytes: { readonly sgdMomentum: number; readonly adam: number };
  /** Activations stored for the backward pass (the lecture's activation total, at `batch`); null when unknown. */
  readonly activationsBytes: number | null;
  /** weights + gradients + optimizer state + activations; null when the activations are unknown. */
  readonly totalBytes: { readonly sgdMomentum: number | null; readonly adam: number | null };
  readonly note: string;
}

export function trainingMemory(params: number, activationsPerSample: number | null, batch: number, bytesPerValue = 4): TrainingMemory {
  const w = params * bytesPerValue;
  const act = activationsPerSample === null ? null : activationsPerSample * batch * bytesPerValue;
  const sgd = w;
  const adam = 2 * w;
  return {
    batch,
    bytesPerValue,
    weightsBytes: w,
    gradientsBytes: w,
    optimizerBytes: { sgdMomentum: sgd, adam },
    activationsBytes: act,
    totalBytes: { sgdMomentum: act === null ? null : w + w + sgd + act, adam: act === null ? null : w + w + adam + act },
    note: 'fp32 training: weights + gradients (one per parameter) + optimizer state (SGD-momentum 1, Adam 2 per parameter) + every layer output stored for the backward pass (the activation total, in-place activations and views excluded), per sample × batch',
  };
}
