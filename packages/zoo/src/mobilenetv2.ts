/**
 * MobileNetV2 (Sandler et al., 2018) in torchvision's layout, BatchNormalization kept, ReLU6
 * exported as Clip(0, 6). Inverted residual blocks (expansion t, channels c, repeats n, stride
 * s): (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1), a 1×1
 * conv to 1280, global average pool and a linear classifier. 3,504,872 learnable parameters
 * and 300,774,272 MACs at 224 with width multiplier 1.
 *
 * `widthMultiplier` scales channels as torchvision does (`_make_divisible(c·α, 8)`, the last
 * conv never below 1280). Names are torchvision's: `features.0.0` (conv), `features.0.1` (BN),
 * `features.0.2` (ReLU6), `features.2.conv.0.0`, ..., `features.18.0`, `classifier.1`.
 */
import type { Model } from '@onnxkit/graph';
import { ZooError } from './errors.js';
import { type Act, Net } from './net.js';
import { resolveImageOptions, type ImageModelOptions } from './options.js';

export interface MobileNetV2Options extends ImageModelOptions {
  /** Channel width multiplier α (torchvision's `width_mult`). Default 1. */
  widthMultiplier?: number;
}

const SETTINGS: readonly (readonly [t: number, c: number, n: number, s: number])[] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/** torchvision's `_make_divisible`: nearest multiple of `divisor`, never 10% below v. */
export function makeDivisible(v: number, divisor = 8): number {
  let n = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

/** Conv2dNormActivation: conv (no bias) → BN → ReLU6, named `<name>.0/.1/.2`. */
function convBnRelu6(net: Net, name: string, x: Act, out: number, kernel: number, stride = 1, groups = 1): Act {
  let y = net.conv(`${name}.0`, x, { out, kernel, stride, pad: (kernel - 1) >> 1, groups });
  y = net.batchNorm(`${name}.1`, y);
  return net.relu6(`${name}.2`, y);
}

function invertedResidual(net: Net, name: string, x: Act, out: number, stride: number, t: number): Act {
  const inp = x.dims[0]!;
  const hidden = Math.round(inp * t);
  let y = x;
  let i = 0;
  if (t !== 1) y = convBnRelu6(net, `${name}.conv.${i++}`, y, hidden, 1);
  y = convBnRelu6(net, `${name}.conv.${i++}`, y, hidden, 3, stride, hidden);
  y = net.conv(`${name}.conv.${i++}`, y, { out, kernel: 1 });
  y = net.batchNorm(`${name}.conv.${i++}`, y);
  return stride === 1 && inp === out ? net.add(`${name}.Add`, x, y) : y;
}

export function mobilenetv2(o: MobileNetV2Options = {}): Model {
  const { r, numClasses, size } = resolveImageOptions('mobilenetv2', o, 32);
  const alpha = o.widthMultiplier ?? 1;
  if (!(Number.isFinite(alpha) && alpha > 0 && alpha <= 8)) {
    throw new ZooError(`mobilenetv2: widthMultiplier must be in (0, 8], got ${alpha}`, { hint: 'torchvision uses 0.35, 0.5, 0.75, 1.0, 1.3, 1.4' });
  }
  const net = new Net('mobilenetv2', r);
  let x = net.input('input', [3, size, size]);
  x = convBnRelu6(net, 'features.0', x, makeDivisible(32 * alpha), 3, 2);
  let index = 1;
  for (const [t, c, n, s] of SETTINGS) {
    const out = makeDivisible(c * alpha);
    for (let i = 0; i < n; i++) x = invertedResidual(net, `features.${index++}`, x, out, i === 0 ? s : 1, t);
  }
  x = convBnRelu6(net, `features.${index}`, x, makeDivisible(1280 * Math.max(1, alpha)), 1);
  x = net.globalAveragePool('GlobalAveragePool', x);
  x = net.flatten('Flatten', x);
  x = net.linear('classifier.1', x, numClasses, { last: true });
  net.output(x, 'output');
  return net.build(`MobileNetV2 (width ${alpha}), torchvision layout, BatchNormalization kept, ReLU6 as Clip`, {
    'zoo.model': 'mobilenetv2',
  });
}
