"""The seam (training.jobs): each task's target imports and takes its config, and a job that cannot be understood
is refused with the choices."""
import importlib
import inspect

import pytest

from training import jobs


@pytest.mark.parametrize("name", list(jobs.TASKS))
def test_every_task_runs_a_function_of_its_config_and_says_what_it_does(name):
    task = jobs.TASKS[name]
    module, function = task.target.split(":")
    target = getattr(importlib.import_module(f"training.{module}"), function)
    assert list(inspect.signature(target).parameters)[:2] == ["config", "progress"]
    assert task.summary and task.config.__name__.endswith("Config")


def test_an_unknown_task_or_setting_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="Unknown task 'paint': choose one of inspect, chips, train"):
        jobs.run_job("paint", {})
    with pytest.raises(ValueError, match="Settings not understood for the check job"):
        jobs.run_job("check", {"colour": "red"})
