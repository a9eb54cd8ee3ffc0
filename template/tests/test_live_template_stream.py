"""/timeline on the production server: streamed, in parallel, in flat memory, cleaned up."""

import pytest

from tests.live import DownloadChecks, StreamChecks

pytestmark = pytest.mark.live


class TestTimeline(DownloadChecks):
    path = "/timeline?limit=20000"
    large = "/timeline?limit=200000"
    least_size = 10_000_000


class TestCompactTimeline(StreamChecks):
    path = "/timeline/compact?limit=20000"
