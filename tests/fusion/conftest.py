import pytest
from evidence_docs import evidence, line


@pytest.fixture
def make_line():
    return line


@pytest.fixture
def make_evidence():
    return evidence
