"""/export.zip on the production server: streamed, in parallel, in flat memory, cleaned up."""

import io
import zipfile

import pytest

from tests.live import DownloadChecks

pytestmark = pytest.mark.live


class TestZip(DownloadChecks):
    path = "/export.zip?limit=20000"
    large = "/export.zip"
    # Compressed: 200,000 orders and as many events come to about 3.4 MB.
    least_size = 3_000_000
    # Each download reads both tables at once.
    sessions = 2

    @staticmethod
    def comparable(body: bytes) -> bytes:
        """The CSV members, one after the other: an archive carries the time it was made."""
        with zipfile.ZipFile(io.BytesIO(body)) as members:
            return b"".join(members.read(name) for name in ("orders.csv", "events.csv"))
