"""Export the encoder to ONNX and prove it: ``python -m tcn_vae.export``.

Exports with torch's TorchScript exporter (opset 13, no dynamic axes,
constant folding, ``dynamo=False`` where torch has that parameter) to a fixed
``[1, C, 1, T]`` input, then verifies the file: ``onnx.checker``, every
dimension concrete, the opset, no operator the Hailo DFC is known to reject in
this graph (1-D ``Conv``, a ``Slice`` fed by a ``Pad``), and onnxruntime
against torch on fixed-seed inputs. Writes a JSON report beside the model;
exits 1, naming what failed, when any check fails.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import torch

from tcn_vae.metadata import ModelConfig
from tcn_vae.model import Encoder

OPSET = 13
MAX_ABS_DIFF = 1e-4


def export(encoder: Encoder, config: ModelConfig, path: Path) -> None:
    """torch's export, then onnxruntime's basic (standard-ops-only) graph
    optimisation: torch computes ``Pad`` amounts with a chain of
    ConstantOfShape/Slice/Transpose ops it cannot fold; folded, each ``Pad``
    becomes the left ``pads`` of its ``Conv``, the form the DFC parses best."""
    steps, channels = config.input_shape
    example = torch.zeros(1, channels, 1, steps)
    raw = path.with_suffix(".raw.onnx")
    options = dict(
        opset_version=OPSET,
        dynamic_axes=None,
        do_constant_folding=True,
        input_names=["imu_window"],
        output_names=["mu", "logvar"],
    )
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        options["dynamo"] = False
    encoder.static_batch = 1
    try:
        torch.onnx.export(encoder, (example,), str(raw), **options)
    finally:
        encoder.static_batch = 0
    session = onnxruntime.SessionOptions()
    session.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
    session.optimized_model_filepath = str(path)
    onnxruntime.InferenceSession(str(raw), session, providers=["CPUExecutionProvider"])
    raw.unlink()
    model = onnx.load(str(path))
    # onnxruntime declares its own domains; keep only the ones nodes use.
    used = {node.domain for node in model.graph.node}
    kept = [o for o in model.opset_import if o.domain in used or o.domain in ("", "ai.onnx")]
    del model.opset_import[:]
    model.opset_import.extend(kept)
    onnx.save(model, str(path))


def problems(model: onnx.ModelProto) -> list:
    """Everything the DFC or the device would trip over, as sentences."""
    found = []
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as err:
        found.append(f"onnx.checker: {err}")
    for value in list(model.graph.input) + list(model.graph.output):
        dims = value.type.tensor_type.shape.dim
        if not dims or any(d.dim_value <= 0 for d in dims):
            found.append(f"{value.name}: not every dimension is a fixed number ({[d.dim_param or d.dim_value for d in dims]})")
    opsets = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    if opsets.get("ai.onnx") != OPSET:
        found.append(f"opset {opsets.get('ai.onnx')}, expected {OPSET}")
    producers = {out: node for node in model.graph.node for out in node.output}
    for node in model.graph.node:
        kernel = next((list(a.ints) for a in node.attribute if a.name == "kernel_shape"), None)
        if node.op_type == "Conv" and kernel is not None and len(kernel) == 1:
            found.append(f"{node.name}: a 1-D Conv (Conv1d); write it as Conv2d with a (1, k) kernel")
        if node.op_type == "Slice" and node.input and getattr(producers.get(node.input[0]), "op_type", "") == "Pad":
            found.append(f"{node.name}: a Slice after a Pad; pad on the left only instead of pad+Slice")
    return found


def parity(encoder: Encoder, path: Path, config: ModelConfig, seed: int = 0, count: int = 8) -> float:
    """Max absolute difference of onnxruntime against torch on fixed inputs."""
    steps, channels = config.input_shape
    rng = np.random.default_rng(seed)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for _ in range(count):
        x = rng.standard_normal((1, channels, 1, steps)).astype(np.float32)
        with torch.no_grad():
            expected = [t.numpy() for t in encoder(torch.from_numpy(x))]
        got = session.run(["mu", "logvar"], {"imu_window": x})
        for e, g in zip(expected, got):
            np.testing.assert_allclose(g, e, rtol=1e-3, atol=1e-5)
            worst = max(worst, float(np.max(np.abs(g - e))))
    return worst


def write_reference(encoder: Encoder, config: ModelConfig, path: Path, seed: int = 1, count: int = 8) -> None:
    """Inputs and torch's outputs for the release tool's own onnxruntime parity
    check: one array per ONNX input and output name, samples on the first axis."""
    steps, channels = config.input_shape
    rng = np.random.default_rng(seed)
    windows = rng.standard_normal((count, 1, channels, 1, steps)).astype(np.float32)
    with torch.no_grad():
        outputs = [encoder(torch.from_numpy(x)) for x in windows]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        np.savez(
            f,
            imu_window=windows,
            mu=np.stack([o[0].numpy() for o in outputs]),
            logvar=np.stack([o[1].numpy() for o in outputs]),
        )


def node_names(model: onnx.ModelProto) -> tuple:
    """The nodes the network starts at (reading the input) and ends at."""
    inputs = {i.name for i in model.graph.input}
    outputs = {o.name for o in model.graph.output}
    start = [n.name for n in model.graph.node if inputs & set(n.input)]
    end = [n.name for n in model.graph.node if outputs & set(n.output)]
    return start, end


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="model_config.json")
    parser.add_argument("--weights", type=Path, required=True, help="state dict of the whole TCN-VAE")
    parser.add_argument("--out", type=Path, required=True, help="the .onnx to write")
    parser.add_argument("--reference", type=Path, help="also write inputs and torch's outputs here (.npz)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    config = ModelConfig.load(args.config)
    from tcn_vae.model import TcnVae

    model = TcnVae(config)
    model.load_state_dict(torch.load(args.weights, map_location="cpu", weights_only=True))
    encoder = model.encoder.eval()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    export(encoder, config, args.out)
    onnx_model = onnx.load(str(args.out))
    found = problems(onnx_model)
    worst = None
    if not found:
        try:
            worst = parity(encoder, args.out, config)
        except AssertionError as err:
            found.append(f"onnxruntime and torch disagree: {err}")
        if worst is not None and worst > MAX_ABS_DIFF:
            found.append(f"max absolute difference {worst:.2e} exceeds {MAX_ABS_DIFF:.0e}")
    start, end = node_names(onnx_model)
    dims = lambda values: [[d.dim_value for d in v.type.tensor_type.shape.dim] for v in values]  # noqa: E731
    report = {
        "onnx": str(args.out),
        "opset": OPSET,
        "input_shape": dims(onnx_model.graph.input)[0],
        "output_shapes": dims(onnx_model.graph.output),
        "device_layout": f"NHWC 1x{config.input_shape[0]}x{config.input_shape[1]}",
        "max_abs_diff": worst,
        "start_nodes": start,
        "end_nodes": end,
        "problems": found,
        "sha256": {"weights": sha256(args.weights), "onnx": sha256(args.out)},
        "versions": {"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__},
    }
    args.out.with_suffix(".export.json").write_text(json.dumps(report, indent=2) + "\n")
    if args.reference and not found:
        write_reference(encoder, config, args.reference)
    if found:
        for problem in found:
            print(f"{args.out}: {problem}", file=sys.stderr)
        return 1
    print(f"exported {args.out}: input {report['input_shape']}, opset {OPSET}, max |onnx - torch| = {worst:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
