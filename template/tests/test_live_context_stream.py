"""/stream and /stream/decorated on the production server: streamed, and in parallel."""

import pytest

from tests.live import StreamChecks

pytestmark = pytest.mark.live


class TestStream(StreamChecks):
    path = "/stream?name=World"


class TestDecoratedStream(StreamChecks):
    path = "/stream/decorated?name=Zo%C3%AB"
