/** `onnxkit passes`: the rewrite passes and presets, with one-line descriptions. */
import { PASSES, PRESETS } from '@onnxkit/passes';
import { outputMode, paint, table } from '../ui.js';
import type { OptionsOf } from '../definitions.js';

export default async function passes(opts: OptionsOf<'passes'>): Promise<number> {
  const mode = outputMode(opts);
  const list = Object.values(PASSES).map((p) => ({ name: p.name, exact: p.exact, description: p.description }));
  const presets = Object.values(PRESETS).map((p) => ({ name: p.name, description: p.description, passes: [...p.passes] }));
  if (mode.json) {
    process.stdout.write(JSON.stringify({ passes: list, presets }, null, 2) + '\n');
    return 0;
  }
  process.stdout.write(`${paint(mode, 'bold', 'passes')}\n`);
  process.stdout.write(table(['name', 'kind', 'description'], list.map((p) => [p.name, p.exact ? 'exact' : paint(mode, 'yellow', 'approximate'), p.description]), mode) + '\n\n');
  process.stdout.write(`${paint(mode, 'bold', 'presets')}\n`);
  for (const p of presets) process.stdout.write(`  ${paint(mode, 'cyan', p.name)} — ${p.description}\n    ${p.passes.join(' → ')}\n`);
  return 0;
}
