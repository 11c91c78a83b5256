/**
 * VGG-16 (Simonyan & Zisserman 2015, configuration D) in torchvision's layout: 13 3×3 convs
 * with biases in five stages (64, 128, 256, 512, 512) separated by 2×2 max-pools, the 7×7
 * adaptive average pool, and a 4096-4096-classes classifier. 138,357,544 parameters and
 * 15,470,264,320 MACs at 224×224.
 *
 * The adaptive pool is exported as PyTorch exports it when the sizes divide: an AveragePool
 * whose kernel and stride are (feature size / 7) — the identity (1×1, stride 1) at 224.
 * Sizes where the feature map is not a multiple of 7 are refused, since no fixed pool is exact
 * there. Dropout (classifier.2, classifier.5) is absent at inference.
 */
import type { Model } from '@onnxkit/graph';
import { ZooError } from './errors.js';
import { Net } from './net.js';
import { resolveImageOptions, type ImageModelOptions } from './options.js';

export type Vgg16Options = ImageModelOptions;

/** Configuration D: channel counts, 'M' for a max-pool. */
const CONFIG_D = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'] as const;

export function vgg16(o: Vgg16Options = {}): Model {
  const { r, numClasses, size } = resolveImageOptions('vgg16', o, 32);
  const feature = Math.floor(size / 32);
  if (feature % 7 !== 0) {
    throw new ZooError(`vgg16: imageSize ${size} gives a ${feature}×${feature} feature map, which a fixed pool cannot bring to 7×7 exactly`, {
      hint: 'use an imageSize whose feature map (imageSize / 32) is a multiple of 7, e.g. 224 or 448',
    });
  }
  const net = new Net('vgg16', r);
  let x = net.input('input', [3, size, size]);
  let index = 0;
  for (const layer of CONFIG_D) {
    if (layer === 'M') {
      x = net.maxPool(`features.${index}`, x, 2, 2);
      index += 1;
    } else {
      x = net.conv(`features.${index}`, x, { out: layer, kernel: 3, pad: 1, bias: true });
      x = net.relu(`features.${index + 1}`, x);
      index += 2;
    }
  }
  const k = feature / 7;
  x = net.averagePool('avgpool', x, k, k);
  x = net.classifier(x, numClasses, [0, 1, 3, 4, 6]);
  net.output(x, 'output');
  return net.build('VGG-16 (configuration D), torchvision layout', { 'zoo.model': 'vgg16' });
}
