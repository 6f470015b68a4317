import pytest

from tests.cli.hostile.helpers import Inputs, build_pristine


@pytest.fixture(scope="package")
def pristine(tmp_path_factory) -> Inputs:
    """Built once for every broken-input test: each case breaks fresh copies of it."""
    return build_pristine(tmp_path_factory.mktemp("pristine"))
