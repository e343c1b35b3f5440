"""The table of jobs: every row names a function the worker can import and hand a runtime."""

from __future__ import annotations

import inspect

import pytest
from rq.utils import import_attribute

from holdless import tasks


@pytest.mark.parametrize("task", tasks.ALL, ids=lambda t: t.path)
def test_every_job_name_resolves_to_a_function_taking_the_runtime_first(task):
    func = import_attribute(task.path)
    assert callable(func)
    assert next(iter(inspect.signature(func).parameters)) == "rt"


def test_every_task_constant_is_in_the_table_once():
    constants = [v for v in vars(tasks).values() if isinstance(v, tasks.Task)]
    assert sorted(t.path for t in constants) == sorted(t.path for t in tasks.ALL)
    assert len({t.path for t in tasks.ALL}) == len(tasks.ALL)
