// The CLI's option lists that mirror a library's (issue 15.4): commander checks --preset against
// PRESET_NAMES without loading @onnxkit/passes' registry, so the two lists must agree.
import { describe, expect, it } from 'vitest';
import { PRESETS } from '@onnxkit/passes';
import { PRESET_NAMES } from '../src/options.js';

describe('option choices', () => {
  it('PRESET_NAMES are the presets of @onnxkit/passes', () => {
    expect([...PRESET_NAMES].sort()).toEqual(Object.keys(PRESETS).sort());
  });
});
