"""The DFC's calibration set: ``python -m tcn_vae.calibration --out calib.npy``.

A float32 ``.npy`` of shape ``(N, 1, T, C)``, the DFC's NHWC for the encoder's
``[1, C, 1, T]`` input, from windows normalised exactly as in training with
``normalization.json``. Fewer than 1024 windows compiles fine and quietly
loses accuracy, so it warns.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from tcn_vae import synthetic
from tcn_vae.metadata import Normalization

MINIMUM = 1024


def calibration_set(norm: Normalization, count: int, seed: int) -> np.ndarray:
    steps = norm.window_shape[0]
    raw, _ = synthetic.windows(count, seed, steps=steps)
    return synthetic.normalize(raw, norm.mean, norm.std)[:, None, :, :]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--normalization", type=Path, default=Path("models/tcn_encoder/v0.1.0/normalization.json"))
    parser.add_argument("--count", type=int, default=MINIMUM)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.count < MINIMUM:
        print(f"warning: {args.count} calibration windows; below {MINIMUM} the quantised model quietly loses accuracy", file=sys.stderr)
    data = calibration_set(Normalization.load(args.normalization), args.count, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.save(args.out, data)
    print(f"wrote {args.out}: {data.dtype} {tuple(data.shape)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
