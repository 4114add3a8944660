import json

import cv2

from lqpose.cli import main
from lqpose.degrade import DEGRADATIONS
from lqpose.demo import CELL, HEADER_H


def test_demo_writes_labelled_grid_and_params(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    grid = cv2.imread(str(tmp_path / "degradations.png"))
    rows = -(-len(DEGRADATIONS) // 2)
    assert grid.shape[0] == HEADER_H + rows * CELL
    record = json.loads((tmp_path / "degradations.json").read_text())
    assert set(record["types"]) == set(DEGRADATIONS)
    for entry in record["types"].values():
        assert {"1", "3", "5"} <= set(entry) and "params" in entry["5"]
    again = tmp_path / "again"
    main(["demo", "--out", str(again)])
    assert (again / "degradations.png").read_bytes() == (tmp_path / "degradations.png").read_bytes()
