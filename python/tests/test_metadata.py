import json
import math

import pytest

from tcn_vae import MetadataError, ModelConfig, Normalization


def test_the_released_config_describes_the_encoder(model_dir):
    config = ModelConfig.load(model_dir / "model_config.json")
    assert config.input_shape == (100, 9)
    assert config.latent_dim == 64
    assert len(config.channels) == len(config.kernel_sizes) == len(config.dilations)
    # kernel 3 with dilations 1, 2, 4: 1 + 2 * (1 + 2 + 4)
    assert config.receptive_field == 15


def test_the_released_normalization_fits_the_config(model_dir):
    config = ModelConfig.load(model_dir / "model_config.json")
    norm = Normalization.load(model_dir / "normalization.json")
    assert norm.window_shape == config.input_shape
    assert len(norm.channels) == 9
    assert all(s > 0 for s in norm.std)


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def base_normalization():
    return {
        "window_shape": [2, 3],
        "channels": ["a", "b", "c"],
        "mean": [0.0, 1.0, -1.0],
        "std": [1.0, 2.0, 0.5],
    }


@pytest.mark.parametrize(
    "change, message",
    [
        ({"std": [1.0, 0.0, 0.5]}, "`std[1]` must be a finite number > 0"),
        ({"std": [1.0, -2.0, 0.5]}, "`std[1]` must be a finite number > 0"),
        ({"mean": [0.0, 1.0]}, "field `mean` has 2 entries but `window_shape` has 3 channels"),
        ({"window_shape": [2, 3, 1]}, "field `window_shape` must be [timesteps, channels]"),
        ({"channels": "abc"}, "field `channels` must be list"),
    ],
)
def test_bad_normalization_names_file_and_field(tmp_path, change, message):
    data = base_normalization()
    data.update(change)
    path = write(tmp_path, "normalization.json", data)
    with pytest.raises(MetadataError) as err:
        Normalization.load(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_non_finite_std_is_refused(tmp_path):
    path = write(tmp_path, "normalization.json", json.dumps(base_normalization()).replace("0.5", "NaN"))
    with pytest.raises(MetadataError, match=r"`std\[2\]` must be a finite number > 0"):
        Normalization.load(path)


def test_malformed_json_reports_line_and_column(tmp_path):
    path = write(tmp_path, "model_config.json", '{\n  "name": "x",\n  "latent_dim": 64,,\n}')
    with pytest.raises(MetadataError, match=r"model_config.json:3:\d+: not valid JSON"):
        ModelConfig.load(path)


def test_missing_field_is_named(tmp_path, model_dir):
    data = json.loads((model_dir / "model_config.json").read_text())
    del data["latent_dim"]
    path = write(tmp_path, "model_config.json", data)
    with pytest.raises(MetadataError, match="missing field `latent_dim`"):
        ModelConfig.load(path)


def test_block_lists_must_agree(tmp_path, model_dir):
    data = json.loads((model_dir / "model_config.json").read_text())
    data["dilations"] = [1, 2]
    path = write(tmp_path, "model_config.json", data)
    with pytest.raises(MetadataError, match="one entry per temporal block, found 3, 3 and 2"):
        ModelConfig.load(path)


def test_apply_standardises_each_channel(tmp_path):
    norm = Normalization.load(write(tmp_path, "n.json", base_normalization()))
    out = norm.apply([[1.0, 3.0, 0.0], [0.0, 1.0, -1.5]])
    assert out == [[1.0, 1.0, 2.0], [0.0, 0.0, -1.0]]


def test_apply_refuses_a_window_of_the_wrong_shape(tmp_path):
    norm = Normalization.load(write(tmp_path, "n.json", base_normalization()))
    with pytest.raises(ValueError, match="expected a window of 2 rows of 3 values"):
        norm.apply([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="a row of another width"):
        norm.apply([[1.0, 2.0, 3.0], [1.0, 2.0]])


def test_released_statistics_are_finite(model_dir):
    norm = Normalization.load(model_dir / "normalization.json")
    assert all(math.isfinite(v) for v in norm.mean + norm.std)
