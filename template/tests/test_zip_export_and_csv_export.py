"""Where zip_export meets csv_export: the archive's orders.csv is the CSV export, byte for byte."""

from __future__ import annotations

import io
import zipfile

import pytest


@pytest.mark.parametrize(
    "options", ["", "?limit=7", "?columns=id,customer,note&since=2024-03-01", "?limit=0"]
)
def test_the_archives_orders_are_what_the_csv_export_writes(client, seed, options) -> None:
    seed(2_500)
    response = client.get(f"/export.zip{options}")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as zipped:
        orders = zipped.read("orders.csv")
    assert orders == client.get(f"/large.csv{options}").get_data()
