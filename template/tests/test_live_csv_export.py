"""/large.csv on the production server: streamed, in parallel, in flat memory, cleaned up."""

import pytest

from tests.live import DownloadChecks

pytestmark = pytest.mark.live


class TestLargeCsv(DownloadChecks):
    path = "/large.csv?limit=20000"
    large = "/large.csv"
    least_size = 10_000_000
