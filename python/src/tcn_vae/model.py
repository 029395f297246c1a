"""The TCN-VAE, written so the Hailo Dataflow Compiler can take it.

- Temporal convolutions are ``Conv2d`` with ``(1, k)`` kernels over
  ``[N, C, 1, T]`` tensors, never ``Conv1d`` (Hailo's own ports do the same):
  a ``[100, 9]`` IMU window enters as ``[1, 9, 1, 100]``, whose on-device NHWC
  form ``1x100x9`` has the byte order of the raw window.
- Causality comes from left zero-padding (``ZeroPad2d``), not symmetric
  padding followed by a ``Slice``, which the DFC handles badly.
- Every shape is static; the encoder ends in two linear heads, ``mu`` and
  ``logvar``, whose ONNX nodes are the parser's end nodes.
"""

from __future__ import annotations

from typing import Tuple

import torch
from torch import nn

from tcn_vae.metadata import ModelConfig


class CausalBlock(nn.Module):
    """Two dilated causal convolutions with a residual connection."""

    def __init__(self, cin: int, cout: int, kernel: int, dilation: int, dropout: float):
        super().__init__()
        left = dilation * (kernel - 1)
        self.pad1 = nn.ZeroPad2d((left, 0, 0, 0))
        self.conv1 = nn.Conv2d(cin, cout, (1, kernel), dilation=(1, dilation))
        self.pad2 = nn.ZeroPad2d((left, 0, 0, 0))
        self.conv2 = nn.Conv2d(cout, cout, (1, kernel), dilation=(1, dilation))
        self.act = nn.ReLU()
        self.drop = nn.Dropout(dropout)
        self.skip = nn.Conv2d(cin, cout, (1, 1)) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.drop(self.act(self.conv1(self.pad1(x))))
        y = self.drop(self.act(self.conv2(self.pad2(y))))
        return self.act(y + self.skip(x))


class Encoder(nn.Module):
    """``[N, C, 1, T]`` -> (``mu``, ``logvar``), each ``[N, latent_dim]``."""

    def __init__(self, config: ModelConfig, dropout: float = 0.1):
        super().__init__()
        channels = config.input_shape[1]
        blocks = []
        for cout, kernel, dilation in zip(config.channels, config.kernel_sizes, config.dilations):
            blocks.append(CausalBlock(channels, cout, kernel, dilation, dropout))
            channels = cout
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.width = channels
        # Set to 1 while exporting: a fixed batch keeps every ONNX dim static.
        self.static_batch = 0
        self.mu = nn.Linear(channels, config.latent_dim)
        self.logvar = nn.Linear(channels, config.latent_dim)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        # A constant shape adds no Shape ops to the graph; Flatten, or -1, left
        # the exported batch dim symbolic.
        h = self.pool(self.blocks(x)).reshape(self.static_batch or -1, self.width)
        return self.mu(h), self.logvar(h)


class Decoder(nn.Module):
    """``[N, latent_dim]`` -> ``[N, C, 1, T]``, the window back."""

    def __init__(self, config: ModelConfig, dropout: float = 0.1):
        super().__init__()
        self.steps = config.input_shape[0]
        self.width = config.channels[-1]
        self.expand = nn.Linear(config.latent_dim, self.width * self.steps)
        blocks = []
        channels = self.width
        for cout, kernel, dilation in reversed(list(zip(config.channels, config.kernel_sizes, config.dilations))):
            blocks.append(CausalBlock(channels, cout, kernel, dilation, dropout))
            channels = cout
        self.blocks = nn.Sequential(*blocks)
        self.out = nn.Conv2d(channels, config.input_shape[1], (1, 1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.expand(z).reshape(-1, self.width, 1, self.steps)
        return self.out(self.blocks(h))


class TcnVae(nn.Module):
    """Encoder, reparameterisation, decoder."""

    def __init__(self, config: ModelConfig, dropout: float = 0.1):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config, dropout)
        self.decoder = Decoder(config, dropout)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.decoder(z), mu, logvar


def to_device_layout(windows: torch.Tensor) -> torch.Tensor:
    """``[N, T, C]`` windows -> the ``[N, C, 1, T]`` the model takes."""
    return windows.permute(0, 2, 1).unsqueeze(2).contiguous()


def loss(recon: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, beta: float = 0.01) -> torch.Tensor:
    """Reconstruction MSE plus a beta-weighted KL term."""
    mse = torch.mean((recon - x) ** 2)
    kl = -0.5 * torch.mean(1 + logvar - mu.pow(2) - logvar.exp())
    return mse + beta * kl
