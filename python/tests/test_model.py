import json

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from tcn_vae import export, synthetic, train
from tcn_vae.calibration import calibration_set
from tcn_vae.metadata import ModelConfig, Normalization
from tcn_vae.model import CausalBlock, TcnVae, to_device_layout


@pytest.fixture
def config(model_dir):
    return ModelConfig.load(model_dir / "model_config.json")


@pytest.fixture
def norm(model_dir):
    return Normalization.load(model_dir / "normalization.json")


def test_shapes_follow_the_config(config):
    model = TcnVae(config).eval()
    x = torch.zeros(4, 9, 1, 100)
    recon, mu, logvar = model(x)
    assert recon.shape == x.shape
    assert mu.shape == logvar.shape == (4, 64)


def test_only_conv2d_with_1_by_k_kernels(config):
    model = TcnVae(config)
    assert not any(isinstance(m, nn.Conv1d) for m in model.modules())
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(c.kernel_size[0] == 1 for c in convs)


def test_blocks_are_causal():
    torch.manual_seed(0)
    block = CausalBlock(9, 16, kernel=3, dilation=4, dropout=0.0).eval()
    x = torch.randn(1, 9, 1, 100)
    changed = x.clone()
    changed[..., 60:] += 5.0
    before, after = block(x), block(changed)
    assert torch.equal(before[..., :60], after[..., :60]), "the past saw the future"
    assert not torch.equal(before[..., 60:], after[..., 60:])


def test_device_layout_keeps_the_window_byte_order():
    windows = torch.arange(2 * 100 * 9, dtype=torch.float32).reshape(2, 100, 9)
    nchw = to_device_layout(windows)
    assert nchw.shape == (2, 9, 1, 100)
    # NHWC 1x100x9 on the device is the raw window again.
    assert torch.equal(nchw.permute(0, 2, 3, 1).reshape(2, 100, 9), windows)


def test_synthetic_training_is_deterministic(config, norm):
    a, losses_a = train.train(config, norm, seed=0, count=64, epochs=1)
    b, losses_b = train.train(config, norm, seed=0, count=64, epochs=1)
    assert losses_a == losses_b
    for (name, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(pa, pb), name


def test_export_is_clean_static_and_matches_torch(tmp_path, model_dir, config, norm):
    model, _ = train.train(config, norm, seed=0, count=64, epochs=1)
    weights = tmp_path / "w.pth"
    torch.save(model.state_dict(), weights)
    out = tmp_path / "enc.onnx"
    assert export.main(["--config", str(model_dir / "model_config.json"), "--weights", str(weights), "--out", str(out)]) == 0
    report = json.loads(out.with_suffix(".export.json").read_text())
    assert report["problems"] == []
    assert report["input_shape"] == [1, 9, 1, 100]
    assert report["output_shapes"] == [[1, 64], [1, 64]]
    assert report["max_abs_diff"] <= 1e-4
    assert sorted(report["end_nodes"]) == ["/logvar/Gemm", "/mu/Gemm"]
    ops = {n.op_type for n in onnx.load(str(out)).graph.node}
    assert ops <= {"Conv", "Relu", "Add", "GlobalAveragePool", "Reshape", "Gemm"}, ops


def test_the_verifier_rejects_conv1d_and_pad_then_slice(tmp_path):
    class Bad(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(9, 4, 3, padding=2)

        def forward(self, x):
            return self.conv(x)[..., :-2]

    path = tmp_path / "bad.onnx"
    torch.onnx.export(Bad().eval(), (torch.zeros(1, 9, 100),), str(path), opset_version=13, dynamo=False)
    problems = export.problems(onnx.load(str(path)))
    assert any("1-D Conv" in p for p in problems), problems


def test_the_verifier_rejects_symbolic_dims(tmp_path):
    path = tmp_path / "dyn.onnx"
    torch.onnx.export(nn.Linear(4, 2), (torch.zeros(1, 4),), str(path), opset_version=13, dynamic_axes={"input": {0: "batch"}}, input_names=["input"], dynamo=False)
    problems = export.problems(onnx.load(str(path)))
    assert any("not every dimension is a fixed number" in p for p in problems), problems


def test_calibration_set_is_nhwc_float32_and_normalised(norm):
    data = calibration_set(norm, count=256, seed=1)
    assert data.dtype == np.float32
    assert data.shape == (256, 1, 100, 9)
    # Normalised with the release statistics: far closer to 0 than raw gravity.
    assert abs(float(data[..., 2].mean())) < 1.0
    raw, _ = synthetic.windows(256, seed=1)
    assert abs(float(raw[..., 2].mean()) - 9.81) < 0.5


def test_the_verifier_rejects_pad_then_slice(tmp_path):
    class PadSlice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(9, 4, (1, 3))

        def forward(self, x):
            # Symmetric padding then cutting the right side off: the causal
            # trick the DFC handles badly.
            return self.conv(nn.functional.pad(x, (2, 2, 0, 0))[..., :-2])

    path = tmp_path / "padslice.onnx"
    torch.onnx.export(PadSlice().eval(), (torch.zeros(1, 9, 1, 100),), str(path), opset_version=13, dynamo=False)
    problems = export.problems(onnx.load(str(path)))
    assert any("a Slice after a Pad" in p for p in problems), problems
