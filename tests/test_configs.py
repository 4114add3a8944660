from pathlib import Path

import pytest

from lqpose.config import load_config
from lqpose.degrade import ChainConfig
from lqpose.engine.train import TrainConfig

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").rglob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_loads(path):
    cls = ChainConfig if path.name == "chain.yaml" else TrainConfig
    cfg = load_config(cls, path)
    if cls is TrainConfig:
        assert cfg.data.train_ann and cfg.optim.steps > 0
        cfg.data.lq.validate()
        for extra in cfg.data.extra_train:  # the mixed-in sets name a file of the shared data and repeat >= 1
            assert extra.ann.startswith("../shared/data/") and extra.repeat >= 1
