"""Each verb is defined once: the registry is what the grammar, /help, the pipeline and the jobs read."""

from __future__ import annotations

import inspect
import subprocess
import sys

from bots.commands import COMMAND_TYPES, REGISTRY
from jobs.dispatch import job_of
from jobs.queues import QUEUES
from tests.every_command import EVERY_COMMAND


def test_every_command_names_a_queue_and_a_job_that_exists():
    for name, cls in COMMAND_TYPES.items():
        assert cls.queue in QUEUES, f"{name} runs on an unknown queue {cls.queue!r}"
        assert cls.job is not None, f"{name} has no job"
        function = job_of(cls.__new__(cls))
        assert list(inspect.signature(function).parameters)[:3] == ["cmd", "who", "reply_to"], cls.job


def test_help_lists_every_registered_verb_and_every_verb_has_an_example():
    from bots import replies

    listed = [key for key, _ in replies.help_message(None).fields]
    assert listed == [f"/{name}" for name in REGISTRY]
    assert {text.split()[0].lstrip("/") for text in EVERY_COMMAND} == set(REGISTRY)


def test_the_web_process_does_not_load_the_kubernetes_side():
    """Parsing and enqueueing a command needs no cluster client: the web process stays small."""
    heavy = ("kubernetes", "jobs.rollout", "jobs.dispatch", "deploy.kube", "deploy.render")
    code = f"import sys, handlers.app; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
