import json

import numpy as np
import pytest

from lqpose.data.records import Instance
from lqpose.data.relabel import Relabel, apply_relabel, read_relabel, write_relabel
from lqpose.keypoints import CROWDPOSE14

NAMES = list(CROWDPOSE14.names)


def person(ann_id: int) -> Instance:
    k = np.zeros((14, 3), np.float32)
    k[:, 0] = np.arange(14) * 10 + ann_id
    k[:, 1] = 5
    k[:, 2] = 2
    k[NAMES.index("left_ankle"), 2] = 0  # one side unlabelled: its flag travels with the exchange
    return Instance("x.jpg", ann_id, np.array([0, 0, 200, 50], np.float32), k, 1.0, (200, 50), ann_id=ann_id)


def test_exchange_and_drop_make_new_records_and_leave_the_readers_ones_alone():
    people = [person(1), person(2), person(3)]
    before = [p.keypoints.copy() for p in people]
    out = apply_relabel(people, CROWDPOSE14, Relabel(exchange=[2], drop=[3]), "train")
    assert [p.ann_id for p in out] == [1, 2]
    assert out[0] is people[0]
    li, ri = NAMES.index("left_ankle"), NAMES.index("right_ankle")
    assert out[1].keypoints[li].tolist() == before[1][ri].tolist()  # the labelled right ankle is now the left one
    assert out[1].keypoints[ri, 2] == 0  # and the unlabelled left ankle the right one
    assert out[1].keypoints[NAMES.index("head"), 0] == before[1][NAMES.index("head"), 0]  # centre joints stay
    assert all((p.keypoints == b).all() for p, b in zip(people, before, strict=True))
    np.testing.assert_array_equal(out[1].bbox, people[1].bbox)


def test_an_id_not_in_the_set_is_an_error_naming_the_set():
    message = r"^train: 2 ann ids of the label corrections are not in this set \(first: 7\)"
    with pytest.raises(ValueError, match=message):
        apply_relabel([person(1)], CROWDPOSE14, Relabel(exchange=[7], drop=[9]), "train")


def test_write_then_read_round_trips_sorted_with_its_provenance(tmp_path):
    path = tmp_path / "fix.json"
    write_relabel(path, Relabel(exchange=[5, 2], note="two people"), {"margin": 0.1})
    obj = json.loads(path.read_text())
    assert obj == {"exchange": [2, 5], "drop": [], "note": "two people", "made_by": {"margin": 0.1}}
    assert read_relabel(path) == Relabel([2, 5], [], "two people")
    assert [p.name for p in tmp_path.iterdir()] == ["fix.json"]  # no temp file left behind


@pytest.mark.parametrize(
    "text, message",
    [
        ("{", "not a JSON label-correction file"),
        ("[1, 2]", "a label-correction file is an object with 'exchange', 'drop' and 'note'"),
        ('{"swap": [1]}', "a label-correction file is an object"),
        ('{"exchange": [1, "2"]}', "'exchange' must be a list of integer ann ids"),
        ('{"drop": 3}', "'drop' must be a list of integer ann ids"),
        ('{"exchange": [1, 4], "drop": [4]}', r"1 ann ids are both exchanged and dropped \(first: 4\)"),
    ],
)
def test_bad_files_are_one_line_errors_naming_the_file(tmp_path, text, message):
    path = tmp_path / "fix.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=rf"^{path}: {message}"):
        read_relabel(path)
    with pytest.raises(FileNotFoundError, match=r"nope\.json: no such label-correction file"):
        read_relabel(tmp_path / "nope.json")
