"""pytest fixtures shared by the integration tests."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from keydirtest.slapd import Slapd  # noqa: E402


@pytest.fixture
def make_slapd():
    """Makes Slapd objects and cleans every one of them up at the end."""
    made = []

    def factory(**kw):
        s = Slapd(**kw)
        made.append(s)
        return s

    yield factory
    for s in made:
        s.cleanup()
