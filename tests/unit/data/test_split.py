"""Chips split into training, validation and test parts: by place where they have map coordinates."""
import numpy as np
import pytest
from osgeo import gdal

from synthetic import write_raster
from training.data.split import place_groups, split_indices


def test_groups_go_whole_to_one_part():
    groups = [i // 4 for i in range(40)]  # ten places of four chips
    train, validation, test = split_indices(40, 0.2, 0.1, seed=3, groups=groups)
    assert sorted(np.concatenate([train, validation, test])) == list(range(40))
    assert len(test) >= 4 and len(validation) >= 8
    part_of = {int(i): name for name, part in (("train", train), ("validation", validation), ("test", test))
               for i in part}
    assert all(len({part_of[i] for i in range(40) if groups[i] == g}) == 1 for g in set(groups))  # whole places
    with pytest.raises(ValueError, match="too few"):
        split_indices(8, 0.2, 0.2, seed=0, groups=[0, 0, 0, 0, 1, 1, 1, 1])


def test_a_small_validation_fraction_still_gives_one_chip():
    train, validation, test = split_indices(4, 0.1, 0.0, seed=0)  # 0.4 of a chip
    assert len(validation) == 1 and len(train) == 3 and len(test) == 0
    with pytest.raises(ValueError, match="no validation chip"):
        split_indices(4, 0.0, 0.0, seed=0)


def test_chips_are_grouped_by_their_place_on_the_map(tmp_path):
    corners = [(0, 0), (320, 0), (2560, 0), (2880, 640)] + [(0, 2560 * row) for row in range(2, 11)]  # metres
    paths = [write_raster(tmp_path / f"{i}.tif", np.zeros((32, 32), np.uint8),
                          geotransform=(500000 + x, 10, 0, 4000000 - y, 0, -10)) for i, (x, y) in enumerate(corners)]
    groups = place_groups(paths, block=256)  # 10 m pixels: cells of 2560 m
    assert groups[0] == groups[1] and groups[2] == groups[3] and len(set(groups)) == 11
    assert place_groups(paths[:10], block=256) is None  # 8 places: chip by chip
    bare = tmp_path / "bare.tif"
    gdal.GetDriverByName("GTiff").Create(str(bare), 8, 8, 1, gdal.GDT_Byte)
    assert place_groups(paths + [bare], block=256) is None
