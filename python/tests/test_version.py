import re
import tomllib
from pathlib import Path

import tcn_vae
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_module_version_matches_pyproject():
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    assert tcn_vae.__version__ == project["version"]


def test_version_is_canonical_pep440():
    # The release tool writes the normal form; a hand edit must not break it.
    assert str(Version(tcn_vae.__version__)) == tcn_vae.__version__


def test_version_is_a_static_literal():
    # `cargo xtask bump` edits this literal; it must stay a plain string.
    source = (Path(tcn_vae.__file__)).read_text()
    assert re.search(r'^__version__ = "[^"]+"$', source, re.M)
