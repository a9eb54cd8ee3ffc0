"""Where csv_import meets csv_export: a file that /large.csv wrote imports back as it was."""

from __future__ import annotations

import pytest

from tests.fixtures.csv_import import ORDERS, post

pytestmark = pytest.mark.usefixtures("import_settings")


@pytest.mark.parametrize("bom", ["0", "1"])
def test_a_file_from_the_csv_export_round_trips(app, client, seed, query, bom) -> None:
    app.config["CSV_FORMULA_GUARD"] = False
    seed(500)
    rows = query(ORDERS)
    exported = client.get(f"/large.csv?bom={bom}").get_data()
    assert exported.startswith("\ufeff".encode()) == (bom == "1")
    query("DELETE FROM orders")
    response = post(client, exported)
    assert response.status_code == 200, response.get_json()
    assert query(ORDERS) == rows
