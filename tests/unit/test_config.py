"""The settings' declarations (training.config): every default within its choices and range, the checks that
refuse the rest, and the architecture choices read from the registry."""
import dataclasses

import pytest

from training import config
from training.architectures import ARCHITECTURES

CONFIGS = [value for value in vars(config).values()
           if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == config.__name__]


@pytest.mark.parametrize("config_class", CONFIGS, ids=lambda c: c.__name__)
def test_every_declared_default_is_within_its_choices_and_range(config_class):
    for declared in dataclasses.fields(config_class):
        meta, default = declared.metadata, declared.default
        if default is dataclasses.MISSING:
            continue
        assert "choices" not in meta or default in meta["choices"], declared.name
        assert "minimum" not in meta or default >= meta["minimum"], declared.name
        assert "maximum" not in meta or default <= meta["maximum"], declared.name


def test_the_architecture_choices_are_the_registry_with_its_labels():
    choices = next(f for f in dataclasses.fields(config.TrainConfig) if f.name == "architecture").metadata["choices"]
    assert choices == {key: architecture.label for key, architecture in ARCHITECTURES.items()}


@pytest.mark.parametrize("setting, value, message", [
    ("architecture", "resnet", "The architecture 'resnet' is unknown: choose one of unet, unet_vgg16"),
    ("epochs", 0, "The epochs 0 is too small: give at least 1"),
    ("learning_rate", 2.0, "The learning rate 2.0 is too large: give at most 1.0")])
def test_check_settings_names_the_setting_and_what_is_allowed(setting, value, message):
    with pytest.raises(ValueError, match=message):
        config.check_settings(config.TrainConfig(output_model="m.keras", **{setting: value}))
