"""Synthetic IMU-like windows, so the whole path (training, export,
calibration, HEF compile) runs without the real datasets, which are out of
scope here. Deterministic for a seed.

Each window is one of a few "activities": a periodic motion (frequency and
amplitude per activity) on the accelerometer and gyroscope, gravity on
``acc_z``, a slowly rotating magnetic field, and sensor noise, at 50 Hz.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

ACTIVITIES = (
    # (frequency in Hz, acceleration amplitude, rotation amplitude)
    (0.0, 0.05, 0.02),  # still
    (1.8, 1.5, 0.4),  # walking
    (2.8, 3.5, 0.9),  # running
    (0.9, 0.8, 1.2),  # turning
)


def windows(count: int, seed: int, steps: int = 100, rate_hz: float = 50.0) -> Tuple[np.ndarray, np.ndarray]:
    """``count`` raw windows ``[count, steps, 9]`` (float32) and their labels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(ACTIVITIES), size=count)
    t = np.arange(steps) / rate_hz
    out = np.empty((count, steps, 9), dtype=np.float32)
    for i, label in enumerate(labels):
        freq, acc_amp, rot_amp = ACTIVITIES[label]
        phase = rng.uniform(0, 2 * np.pi, size=9)
        wave = np.sin(2 * np.pi * freq * t[:, None] + phase[None, :])
        acc = acc_amp * wave[:, 0:3] + np.array([0.0, 0.0, 9.81])
        gyro = rot_amp * wave[:, 3:6]
        heading = rng.uniform(0, 2 * np.pi) + 0.3 * rot_amp * t
        mag = np.stack([30 * np.cos(heading), 30 * np.sin(heading), np.full(steps, 39.0)], axis=1)
        noise = rng.normal(0, [0.05] * 3 + [0.01] * 3 + [0.5] * 3, size=(steps, 9))
        out[i] = np.concatenate([acc, gyro, mag], axis=1) + noise
    return out, labels


def normalize(raw: np.ndarray, mean, std) -> np.ndarray:
    """``(x - mean) / std`` per channel, float32."""
    return ((raw - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)).astype(np.float32)
