"""The model's metadata files, read and checked the way the device reads them.

``model_config.json`` describes the architecture (input window, channels, kernel
sizes, dilations, latent size); ``normalization.json`` holds the per-channel
mean and standard deviation applied to every raw IMU window before inference.
A file that breaks a rule raises :class:`MetadataError` naming the file, the
field and what is wrong.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Sequence, Tuple

Window = Sequence[Sequence[float]]


class MetadataError(ValueError):
    """A metadata file is missing a field or holds a value the model cannot use."""


def _read_json(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise MetadataError(f"{path}: cannot read: {err.strerror}") from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise MetadataError(f"{path}:{err.lineno}:{err.colno}: not valid JSON: {err.msg}") from err
    if not isinstance(data, dict):
        raise MetadataError(f"{path}: expected a JSON object at the top level")
    return data


def _field(path: Path, data: dict, name: str, kind: type) -> Any:
    if name not in data:
        raise MetadataError(f"{path}: missing field `{name}`")
    value = data[name]
    # bool is an int in Python; a flag is never a size.
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise MetadataError(f"{path}: field `{name}` must be {kind.__name__}, found {value!r}")
    return value


def _int_list(path: Path, data: dict, name: str) -> List[int]:
    values = _field(path, data, name, list)
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
        raise MetadataError(f"{path}: field `{name}` must be a non-empty list of positive integers")
    return list(values)


def _shape(path: Path, data: dict, name: str) -> Tuple[int, int]:
    shape = _int_list(path, data, name)
    if len(shape) != 2:
        raise MetadataError(f"{path}: field `{name}` must be [timesteps, channels], found {shape}")
    return shape[0], shape[1]


@dataclass(frozen=True)
class ModelConfig:
    """The encoder's architecture, from ``model_config.json``."""

    name: str
    input_shape: Tuple[int, int]
    channels: List[int]
    kernel_sizes: List[int]
    dilations: List[int]
    latent_dim: int

    @classmethod
    def load(cls, path: "str | Path") -> "ModelConfig":
        path = Path(path)
        data = _read_json(path)
        config = cls(
            name=_field(path, data, "name", str),
            input_shape=_shape(path, data, "input_shape"),
            channels=_int_list(path, data, "channels"),
            kernel_sizes=_int_list(path, data, "kernel_sizes"),
            dilations=_int_list(path, data, "dilations"),
            latent_dim=_field(path, data, "latent_dim", int),
        )
        if not len(config.channels) == len(config.kernel_sizes) == len(config.dilations):
            raise MetadataError(
                f"{path}: `channels`, `kernel_sizes` and `dilations` must have one entry per "
                f"temporal block, found {len(config.channels)}, {len(config.kernel_sizes)} "
                f"and {len(config.dilations)}"
            )
        if config.latent_dim <= 0:
            raise MetadataError(f"{path}: field `latent_dim` must be positive, found {config.latent_dim}")
        return config

    @property
    def receptive_field(self) -> int:
        """Samples of history one output step sees: 1 + sum((k - 1) * d)."""
        return 1 + sum((k - 1) * d for k, d in zip(self.kernel_sizes, self.dilations))


@dataclass(frozen=True)
class Normalization:
    """Per-channel standardisation, from ``normalization.json``."""

    window_shape: Tuple[int, int]
    channels: List[str]
    mean: List[float]
    std: List[float]

    @classmethod
    def load(cls, path: "str | Path") -> "Normalization":
        path = Path(path)
        data = _read_json(path)
        window_shape = _shape(path, data, "window_shape")
        channels = _field(path, data, "channels", list)
        mean = _field(path, data, "mean", list)
        std = _field(path, data, "std", list)
        width = window_shape[1]
        for name, values in (("channels", channels), ("mean", mean), ("std", std)):
            if len(values) != width:
                raise MetadataError(
                    f"{path}: field `{name}` has {len(values)} entries but `window_shape` "
                    f"has {width} channels"
                )
        for i, (m, s) in enumerate(zip(mean, std)):
            if not isinstance(m, (int, float)) or isinstance(m, bool) or not math.isfinite(m):
                raise MetadataError(f"{path}: `mean[{i}]` must be a finite number, found {m!r}")
            if not isinstance(s, (int, float)) or isinstance(s, bool) or not math.isfinite(s) or s <= 0:
                raise MetadataError(
                    f"{path}: `std[{i}]` must be a finite number > 0, found {s!r} "
                    "(a zero std would divide by zero on the device)"
                )
        return cls(window_shape, list(channels), [float(m) for m in mean], [float(s) for s in std])

    def apply(self, window: Window) -> List[List[float]]:
        """``(x - mean) / std`` per channel of a ``window_shape`` window."""
        rows, width = self.window_shape
        if len(window) != rows or any(len(row) != width for row in window):
            got = f"{len(window)} rows" if len(window) != rows else "a row of another width"
            raise ValueError(f"expected a window of {rows} rows of {width} values, got {got}")
        return [[(x - m) / s for x, m, s in zip(row, self.mean, self.std)] for row in window]
