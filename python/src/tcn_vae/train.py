"""Train the TCN-VAE: ``python -m tcn_vae.train --synthetic --seed 0 --out DIR``.

Real datasets are out of scope here; ``--synthetic`` trains deterministically
on synthetic IMU-like windows (see ``tcn_vae.synthetic``) so the whole release
path runs with real weights. Writes ``tcn_vae_synthetic.pth`` (a state dict)
and ``train_report.json`` into DIR (default ``target/synthetic-weights``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from tcn_vae import synthetic
from tcn_vae.metadata import ModelConfig, Normalization
from tcn_vae.model import TcnVae, loss, to_device_layout


def train(config: ModelConfig, norm: Normalization, seed: int, count: int, epochs: int) -> tuple:
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    raw, _ = synthetic.windows(count, seed, steps=config.input_shape[0])
    x = to_device_layout(torch.from_numpy(synthetic.normalize(raw, norm.mean, norm.std)))
    model = TcnVae(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), 64):
            batch = x[order[start : start + 64]]
            recon, mu, logvar = model(batch)
            value = loss(recon, batch, mu, logvar)
            optimizer.zero_grad()
            value.backward()
            optimizer.step()
            losses.append(value.item())
    model.eval()
    return model, losses


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", action="store_true", help="train on synthetic IMU-like windows")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--windows", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--config", type=Path, default=Path("models/tcn_encoder/v0.1.0/model_config.json"))
    parser.add_argument("--normalization", type=Path, default=Path("models/tcn_encoder/v0.1.0/normalization.json"))
    parser.add_argument("--out", type=Path, default=Path("target/synthetic-weights"),
                        help="a directory (writes tcn_vae_synthetic.pth there) or the .pth file to write")
    args = parser.parse_args(argv)
    if not args.synthetic:
        print("only --synthetic training is available here: real datasets are out of scope", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    config, norm = ModelConfig.load(args.config), Normalization.load(args.normalization)
    model, losses = train(config, norm, args.seed, args.windows, args.epochs)
    if args.out.suffix == ".pth":
        weights, report_path = args.out, args.out.with_suffix(".train.json")
    else:
        weights, report_path = args.out / "tcn_vae_synthetic.pth", args.out / "train_report.json"
    weights.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), weights)
    report = {"seed": args.seed, "windows": args.windows, "epochs": args.epochs, "first_loss": losses[0], "last_loss": losses[-1], "weights": str(weights)}
    report_path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"trained on {args.windows} synthetic windows: loss {losses[0]:.4f} -> {losses[-1]:.4f}; wrote {weights}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
