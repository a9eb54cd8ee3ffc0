"""/export.ndjson and /export.json on the production server: streamed, in parallel, cleaned up."""

import pytest

from tests.live import DownloadChecks, StreamChecks

pytestmark = pytest.mark.live


class TestNdjson(DownloadChecks):
    path = "/export.ndjson?limit=20000"
    large = "/export.ndjson"
    least_size = 10_000_000


class TestJsonArray(StreamChecks):
    path = "/export.json?limit=20000"
