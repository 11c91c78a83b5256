"""Float64 reference evaluation of a CNN ONNX model with PyTorch, for the rewrite tests.

Usage: /usr/bin/python3 float64_reference.py MODEL.onnx INPUT.npy OUTPUT.npy

onnxruntime's CPU provider has no float64 Conv, so to tell floating-point noise from a wrong
rewrite the tests need a higher-precision reference: this script evaluates the op subset of the
zoo CNNs (Conv, BatchNormalization, Relu, Clip, MaxPool, AveragePool, GlobalAveragePool, Add, Mul,
Flatten, Reshape, Gemm, MatMul, Identity, Constant) in float64 and writes the first graph output.
Any other op is an error (exit code 2) so a silent wrong answer is impossible.
"""
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def main():
    model_path, input_path, output_path = sys.argv[1:4]
    m = onnx.load(model_path)
    g = m.graph
    env = {}
    for t in g.initializer:
        a = numpy_helper.to_array(t)
        env[t.name] = torch.from_numpy(a.astype(np.float64) if a.dtype.kind == 'f' else a.copy())
    env[g.input[0].name] = torch.from_numpy(np.load(input_path).astype(np.float64))
    for n in g.node:
        i = [env[v] if v else None for v in n.input]
        op = n.op_type
        if op == 'Conv':
            pads = attr(n, 'pads', [0, 0, 0, 0])
            k = len(pads) // 2
            x = i[0]
            if any(pads[d] != pads[d + k] for d in range(k)):
                x = F.pad(x, [p for d in reversed(range(k)) for p in (pads[d], pads[d + k])])
                pad = 0
            else:
                pad = list(pads[:k])
            y = F.conv2d(x, i[1], i[2] if len(i) > 2 else None, stride=attr(n, 'strides', [1, 1]), padding=pad,
                         dilation=attr(n, 'dilations', [1, 1]), groups=attr(n, 'group', 1))
        elif op == 'BatchNormalization':
            y = F.batch_norm(i[0], i[3], i[4], i[1], i[2], training=False, eps=attr(n, 'epsilon', 1e-5))
        elif op == 'Relu':
            y = torch.relu(i[0])
        elif op == 'Clip':
            lo = i[1] if len(i) > 1 and i[1] is not None else None
            hi = i[2] if len(i) > 2 and i[2] is not None else None
            y = torch.clamp(i[0], min=None if lo is None else float(lo), max=None if hi is None else float(hi))
        elif op in ('MaxPool', 'AveragePool'):
            pads = attr(n, 'pads', [0, 0, 0, 0])
            ks = attr(n, 'kernel_shape')
            assert pads[0] == pads[2] and pads[1] == pads[3], 'asymmetric pool pads'
            fn = F.max_pool2d if op == 'MaxPool' else F.avg_pool2d
            kw = {} if op == 'MaxPool' else {'count_include_pad': bool(attr(n, 'count_include_pad', 0))}
            y = fn(i[0], ks, stride=attr(n, 'strides', ks if op == 'MaxPool' else [1, 1]), padding=pads[:2],
                   ceil_mode=bool(attr(n, 'ceil_mode', 0)), **kw)
        elif op == 'GlobalAveragePool':
            y = i[0].mean(dim=tuple(range(2, i[0].dim())), keepdim=True)
        elif op == 'Add':
            y = i[0] + i[1]
        elif op == 'Mul':
            y = i[0] * i[1]
        elif op == 'Flatten':
            ax = attr(n, 'axis', 1)
            y = i[0].reshape(int(np.prod(i[0].shape[:ax])), -1)
        elif op == 'Reshape':
            shape = [int(s) for s in i[1]]
            shape = [i[0].shape[d] if s == 0 else s for d, s in enumerate(shape)]
            y = i[0].reshape(shape)
        elif op == 'Gemm':
            a = i[0].T if attr(n, 'transA', 0) else i[0]
            b = i[1].T if attr(n, 'transB', 0) else i[1]
            y = attr(n, 'alpha', 1.0) * (a @ b)
            if len(i) > 2 and i[2] is not None:
                y = y + attr(n, 'beta', 1.0) * i[2]
        elif op == 'MatMul':
            y = i[0] @ i[1]
        elif op == 'Identity':
            y = i[0]
        elif op == 'Constant':
            a = numpy_helper.to_array(attr(n, 'value'))
            y = torch.from_numpy(a.astype(np.float64) if a.dtype.kind == 'f' else a.copy())
        else:
            print(f'float64_reference.py: unsupported op {op}', file=sys.stderr)
            sys.exit(2)
        env[n.output[0]] = y
    np.save(output_path, env[g.output[0].name].numpy())


if __name__ == '__main__':
    main()
