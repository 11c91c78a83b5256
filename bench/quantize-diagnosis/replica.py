#!/usr/bin/python3
"""An independent replica, in torch, of what onnxruntime's quantize_static (QDQ format) computes
for ResNet-50, to check onnxkit's QDQ models against: BN folded into the convs; int8 symmetric
per-output-channel weights (scale max|w|/127); uint8 asymmetric per-tensor activations with 0 in
the range (scale (max-min)/255, zero point round(-min/scale)) from min/max over 32 calibration
images; Q/DQ on the model input, every conv output (after its Relu, which is folded), both Add
inputs and the Add(+Relu) output, the pooled features; MaxPool and Flatten share their input's
scale; the fc output stays float. Biases are left in float (int32 with scale s_x*s_w is exact to
~1e-9 relative). Calibration on uniform [-1, 1) images (seeded), evaluation on 4 others.
    /usr/bin/python3 bench/quantize-diagnosis/replica.py zoo:/tmp/r50.onnx"""
import sys

import torch
import torch.nn.functional as F

from models import build

torch.set_num_threads(1)
spec = sys.argv[1]
m = build(spec)


def fold(conv, bn):
    a = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return (conv.weight * a[:, None, None, None]).detach(), (bn.bias - bn.running_mean * a).detach(), conv


convs = {"conv1": fold(m.conv1, m.bn1)}
for li in range(1, 5):
    for bi, blk in enumerate(getattr(m, f"layer{li}")):
        p = f"layer{li}.{bi}"
        convs[p + ".conv1"] = fold(blk.conv1, blk.bn1)
        convs[p + ".conv2"] = fold(blk.conv2, blk.bn2)
        convs[p + ".conv3"] = fold(blk.conv3, blk.bn3)
        if blk.downsample is not None:
            convs[p + ".down"] = fold(blk.downsample[0], blk.downsample[1])
ranges = {}
mode = "collect"


def qweight(w):
    s = w.abs().amax(dim=(1, 2, 3), keepdim=True) / 127
    s[s == 0] = 1
    return (w / s).round().clamp(-127, 127) * s


def Q(name, t):
    if mode == "collect":
        lo, hi = ranges.get(name, (0.0, 0.0))
        ranges[name] = (min(lo, t.min().item()), max(hi, t.max().item()))
        return t
    if mode == "float":
        return t
    lo, hi = ranges[name]
    s = (hi - lo) / 255
    zp = round(-lo / s)
    return ((t / s).round() + zp).clamp(0, 255).sub(zp) * s


def conv(name, x, relu):
    w, b, c = convs[name]
    y = F.conv2d(x, qweight(w) if mode == "quant" else w, b, c.stride, c.padding)
    return Q(name, torch.relu(y) if relu else y)


def forward(x):
    x = m.maxpool(conv("conv1", Q("input", x), True))
    for li in range(1, 5):
        for bi, blk in enumerate(getattr(m, f"layer{li}")):
            p = f"layer{li}.{bi}"
            y = conv(p + ".conv3", conv(p + ".conv2", conv(p + ".conv1", x, True), True), False)
            idt = conv(p + ".down", x, False) if blk.downsample is not None else x
            x = Q(p + ".add", torch.relu(y + idt))
    return m.fc(Q("avgpool", torch.flatten(m.avgpool(x), 1)))


def db(a, b):
    return 10 * torch.log10((a**2).sum() / ((a - b) ** 2).sum()).item()


with torch.no_grad():
    g = torch.Generator().manual_seed(3)
    for _ in range(4):
        forward(torch.rand(8, 3, 224, 224, generator=g) * 2 - 1)
    x = torch.rand(4, 3, 224, 224, generator=torch.Generator().manual_seed(77)) * 2 - 1
    mode = "float"
    ref = forward(x)
    unfolded = m(x)
    mode = "quant"
    q = forward(x)
print(f"{spec}: BN folding {db(unfolded, ref):.1f} dB (float check); int8 replica output SQNR {db(ref, q):.2f} dB")
