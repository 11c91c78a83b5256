/**
 * AlexNet exactly as in the table of MIT EfficientML.ai lecture 2 (Krizhevsky et al., 2012, in
 * its two-GPU form, with groups = 2 where the original split the work across GPUs):
 *
 *   3×224×224 → Conv 11×11/4 pad 2, 96 → ReLU → MaxPool 3/2
 *             → Conv 5×5 pad 2, 256, groups 2 → ReLU → MaxPool 3/2
 *             → Conv 3×3 pad 1, 384 → ReLU
 *             → Conv 3×3 pad 1, 384, groups 2 → ReLU
 *             → Conv 3×3 pad 1, 256, groups 2 → ReLU → MaxPool 3/2
 *             → Flatten → Linear 4096 → ReLU → Linear 4096 → ReLU → Linear 1000
 *
 * No LRN and no dropout (inference). Conv and Linear carry biases. Weights without biases:
 * 60,954,656. Names follow torchvision's AlexNet module paths (`features.0`, ...,
 * `classifier.6`); the classifier indices 0 and 3 are torchvision's Dropout slots, absent here,
 * and torchvision's 6×6 adaptive pool is absent too because the lecture has none (at 224 it
 * would be the identity).
 */
import type { Model } from '@onnxkit/graph';
import { ZooError } from './errors.js';
import { Net } from './net.js';
import { resolveImageOptions, type ImageModelOptions } from './options.js';

export type AlexNetOptions = ImageModelOptions;

export function alexnet(o: AlexNetOptions = {}): Model {
  const { r, numClasses, size } = resolveImageOptions('alexnet', o, 63);
  const net = new Net('alexnet', r);
  let x = net.input('input', [3, size, size]);
  x = net.conv('features.0', x, { out: 96, kernel: 11, stride: 4, pad: 2, bias: true });
  x = net.relu('features.1', x);
  x = net.maxPool('features.2', x, 3, 2);
  x = net.conv('features.3', x, { out: 256, kernel: 5, pad: 2, groups: 2, bias: true });
  x = net.relu('features.4', x);
  x = net.maxPool('features.5', x, 3, 2);
  x = net.conv('features.6', x, { out: 384, kernel: 3, pad: 1, bias: true });
  x = net.relu('features.7', x);
  x = net.conv('features.8', x, { out: 384, kernel: 3, pad: 1, groups: 2, bias: true });
  x = net.relu('features.9', x);
  x = net.conv('features.10', x, { out: 256, kernel: 3, pad: 1, groups: 2, bias: true });
  x = net.relu('features.11', x);
  x = net.maxPool('features.12', x, 3, 2);
  if (x.dims[1]! < 1 || x.dims[2]! < 1) throw new ZooError(`alexnet: imageSize ${size} leaves no spatial extent before the classifier`);
  x = net.classifier(x, numClasses, [1, 2, 4, 5, 6]);
  net.output(x, 'output');
  return net.build('AlexNet as in MIT EfficientML.ai lecture 2 (groups=2 convs, no LRN, no dropout)', { 'zoo.model': 'alexnet' });
}
