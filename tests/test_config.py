from dataclasses import dataclass, field

import pytest

from lqpose.config import ConfigError, apply_overrides, from_dict, load_config, save_config, to_dict


@dataclass
class Inner:
    lr: float = 1e-3
    steps: int = 10
    size: tuple[int, int] = (256, 192)
    name: str | None = None


@dataclass
class Outer:
    train: Inner = field(default_factory=Inner)
    amp: bool = True
    weights: dict[str, float] = field(default_factory=dict)


def test_round_trip_through_yaml(tmp_path):
    cfg = Outer(train=Inner(lr=0.5, steps=3, size=(128, 96), name="x"), amp=False)
    save_config(cfg, tmp_path / "c.yaml")
    assert load_config(Outer, tmp_path / "c.yaml") == cfg
    assert to_dict(cfg)["train"]["size"] == [128, 96]


def test_overrides_are_typed():
    cfg = load_config(Outer, None, ["train.lr=2e-4", "train.size=[64, 48]", "amp=false", "train.name=abc"])
    assert cfg.train.lr == 2e-4 and cfg.train.size == (64, 48) and cfg.amp is False and cfg.train.name == "abc"
    with pytest.raises(ConfigError, match="expected an integer"):
        load_config(Outer, None, ["train.steps=1.5"])
    with pytest.raises(ConfigError, match="expected 2 values"):
        load_config(Outer, None, ["train.size=[1, 2, 3]"])
    with pytest.raises(ConfigError, match="not of the form"):
        apply_overrides({}, ["train.lr"])


def test_typo_gets_closest_key(tmp_path):
    with pytest.raises(ConfigError, match="train: unknown key 'lrr'; did you mean 'lr'"):
        from_dict(Outer, {"train": {"lrr": 1}})
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [1, 2")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        load_config(Outer, bad)


def test_mappings_are_typed_by_their_declared_key_and_value_types():
    cfg = from_dict(Outer, {"weights": {"left_hip": 1, "right_hip": "1.5"}})
    assert cfg.weights == {"left_hip": 1.0, "right_hip": 1.5} and isinstance(cfg.weights["left_hip"], float)
    with pytest.raises(ConfigError, match=r"weights.left_hip: expected a number, got 'heavy'"):
        from_dict(Outer, {"weights": {"left_hip": "heavy"}})
    with pytest.raises(ConfigError, match=r"weights: expected a mapping, got \[1.5\]"):
        from_dict(Outer, {"weights": [1.5]})
