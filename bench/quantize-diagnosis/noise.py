#!/usr/bin/python3
"""How a model propagates a perturbation, without any quantizer: white noise 40 dB below the
tensor at one point, and the SQNR it leaves at the end of each stage and at the logits.
    /usr/bin/python3 bench/quantize-diagnosis/noise.py zoo:/tmp/r50.onnx [input conv1 layer2.0 ...]
Also prints the share of the logits' power that depends on the input at all."""
import sys

import torch

from models import build

torch.set_num_threads(1)
spec = sys.argv[1]
m = build(spec)
x = torch.rand(4, 3, 224, 224, generator=torch.Generator().manual_seed(5)) * 2 - 1


def sqnr(a, b):
    return 10 * torch.log10((a**2).sum() / ((a - b) ** 2).sum()).item()


def run(x, noise_at=None, db=40.0):
    outs = {}

    def tap(name, t):
        if name == noise_at:
            n = torch.randn(t.shape, generator=torch.Generator().manual_seed(9))
            t = t + n * (t.pow(2).mean().sqrt() * 10 ** (-db / 20))
        outs[name] = t
        return t

    with torch.no_grad():
        y = tap("input", x)
        y = m.maxpool(tap("conv1", m.relu(m.bn1(m.conv1(y)))))
        for li in range(1, 5):
            for bi, blk in enumerate(getattr(m, f"layer{li}")):
                y = tap(f"layer{li}.{bi}", blk(y))
        y = tap("avgpool", torch.flatten(m.avgpool(y), 1))
        tap("fc", m.fc(y))
    return outs


ref = run(x)
shown = ("conv1", "layer1.2", "layer2.3", "layer3.5", "layer4.2", "avgpool", "fc")
for at in sys.argv[2:] or ["input", "conv1", "layer1.0", "layer2.0", "layer3.0", "layer4.0"]:
    o = run(x, at)
    keys = list(ref)
    after = keys[keys.index(at):]
    print(f"{spec}: 40 dB noise at {at} -> " + " ".join(f"{k} {sqnr(ref[k], o[k]):.1f}" for k in after if k in shown or k == at))
fc = ref["fc"]
common = fc.mean(0, keepdim=True)
print(f"{spec}: input-dependent share of the logits' power {100 * (fc - common).pow(2).sum() / fc.pow(2).sum():.1f} %")
