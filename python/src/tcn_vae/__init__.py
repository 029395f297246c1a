"""TCN-VAE encoder for 9-axis IMU windows, built for Raspberry Pi + Hailo-8."""

from tcn_vae.metadata import MetadataError, ModelConfig, Normalization

__version__ = "0.1.0"

__all__ = ["MetadataError", "ModelConfig", "Normalization", "__version__"]
