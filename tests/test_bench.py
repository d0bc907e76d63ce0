"""`make bench` cannot silently rot: its cheapest sections run (tiny sizes) and write every field.

No figure is judged here (no timing assertions): only that each section still runs against the code it
measures and reports what the README says it reports."""

from __future__ import annotations

import json

import pytest

from bench import report
from bench.__main__ import main, run
from core import runtime


@pytest.fixture(autouse=True)
def _own_runtime():
    """The bench installs a runtime of its own (over its own Redis, stopped at the end): put ours back."""
    previous = runtime._current
    yield
    runtime._current = previous


def test_the_cheap_sections_run_and_write_every_field(tmp_path, capsys):
    doc = run(["classify", "alert-group"], quick=True, out=tmp_path)

    assert not [n for n in doc["notes"] if "failed" in n], doc["notes"]
    written = json.loads((tmp_path / "latest.json").read_text())
    assert written == doc
    assert [p.name for p in tmp_path.glob("*.json") if p.name != "latest.json"] == \
        [doc["when"].replace(":", "").replace("-", "") + ".json"]
    assert {"when", "seconds", "machine", "commit", "dirty", "sections", "notes", "figures"} <= set(doc)
    assert doc["machine"]["nproc"] >= 1 and doc["machine"]["memory_gib"] > 0 and len(doc["commit"]) == 40
    assert doc["sections"] == ["classify", "alert-group"]
    by_section = {f["section"]: f for f in doc["figures"]}
    assert set(by_section) == {"classify", "alert group"}
    for figure in doc["figures"]:
        assert set(figure) == set(report.FIELDS)
        assert figure["value"] > 0 and figure["baseline"] and figure["baseline_value"] > 0 and figure["ratio"] > 0
        assert figure["goal"] and figure["met"] in (True, False)
    assert by_section["classify"]["unit"] == "events/s" and by_section["classify"]["baseline"] == "json.loads"
    group = by_section["alert group"]
    assert group["unit"] == "ms" and group["p50"] <= group["p99"] and "1000 alerts" in group["note"]

    printed = capsys.readouterr().out
    assert "events classified per second" in printed and "1000-alert group → rendered and queued" in printed


def test_two_runs_side_by_side(tmp_path, capsys):
    older = report.document([report.Figure("classify", "events classified per second (one core)", 50_000, "events/s")],
                            ["classify"], [], 0)
    newer = report.document([report.Figure("classify", "events classified per second (one core)", 75_000, "events/s"),
                             report.Figure("memory", "web RSS after the bench", 160, "MiB")], ["classify", "memory"], [], 60)
    (tmp_path / "a.json").write_text(json.dumps(older))
    (tmp_path / "b.json").write_text(json.dumps(newer))

    assert main(["--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 0
    lines = capsys.readouterr().out.splitlines()
    [classify] = [line for line in lines if line.startswith("classify")]
    assert "50,000 events/s" in classify and "75,000 events/s" in classify and "×1.50" in classify
    [memory] = [line for line in lines if line.startswith("memory")]
    assert "–" in memory and "160 MiB" in memory  # only in the newer run


def test_an_unknown_section_is_refused_with_the_list(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["ingset"])
    assert exit_.value.code == 2
    assert "no section ingset; the sections are ingest, chat, classify" in capsys.readouterr().err


def test_the_in_process_ingest_measure_runs_every_target(capsys):
    """`python -m bench.ingest_profile`: each target answered 2xx to every delivery (else it raises)."""
    from bench import ingest_profile

    ingest_profile.main(["-n", "20"])
    printed = capsys.readouterr().out
    for target in ("dockyard gitlab", "dockyard alertmanager", "obvious gitlab", "obvious alertmanager",
                   "bare Flask LPUSH", "bare WSGI LPUSH"):
        assert f"{target} " in printed and "µs CPU" in printed
