"""The benchmark report command turns a pytest-benchmark JSON into results and Markdown."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import load_benchmark_module


def fake_json(path: Path, median: float, slug: str = "cpu-2c-test") -> Path:
    data = {
        "machine_info": {"vidgan_hardware": {"cpu_model": "Test CPU", "cpu_cores": 2}, "vidgan_hardware_slug": slug},
        "benchmarks": [
            {"name": "test_attention[full]", "group": None, "stats": {"median": median, "rounds": 2},
             "extra_info": {"suite": "attention", "kind": "full", "peak_mib": 6000.0}},
            {"name": "test_attention[separable]", "group": None, "stats": {"median": median / 30, "rounds": 2},
             "extra_info": {"suite": "attention", "kind": "separable", "peak_mib": 200.0}},
        ],
    }  # fmt: skip
    path.write_text(json.dumps(data))
    return path


def test_report_writes_results_and_replaces_its_section(tmp_path):
    report = load_benchmark_module("report")
    doc, results = tmp_path / "benchmarks.md", tmp_path / "results"
    assert report.main([str(fake_json(tmp_path / "a.json", 3.0)), "--results-dir", str(results), "--doc", str(doc)]) == 0
    saved = json.loads((results / "cpu-2c-test.json").read_text())
    assert saved["hardware"]["cpu_model"] == "Test CPU" and len(saved["benchmarks"]) == 2
    text = doc.read_text()
    assert "| test_attention[full] | 3000.0 | full | 6,000 |" in text and "DVD-GAN section 3.2" in text
    # Reporting the same hardware again replaces its section; another hardware adds one.
    report.main([str(fake_json(tmp_path / "b.json", 1.0)), "--results-dir", str(results), "--doc", str(doc)])
    report.main([str(fake_json(tmp_path / "c.json", 2.0, "gpu-x")), "--results-dir", str(results), "--doc", str(doc)])
    text = doc.read_text()
    assert text.count("<!-- hw:cpu-2c-test -->") == 1 and "3000.0" not in text and "1000.0" in text
    assert "<!-- hw:gpu-x -->" in text


def test_report_lists_cases_skipped_as_out_of_memory(tmp_path):
    report = load_benchmark_module("report")
    path = fake_json(tmp_path / "a.json", 3.0)
    data = json.loads(path.read_text())
    data["benchmarks"] = data["benchmarks"][1:]  # the full-attention case did not run
    reason = "out of memory at this shape: full attention over 16x64x64 positions, B=4, needs about 192.0 GiB"
    data["vidgan_not_run"] = [{"name": "test_attention[full]", "suite": "attention", "reason": reason}]
    path.write_text(json.dumps(data))
    doc, results = tmp_path / "benchmarks.md", tmp_path / "results"
    assert report.main([str(path), "--results-dir", str(results), "--doc", str(doc)]) == 0
    text = doc.read_text()
    assert f"Not run: test_attention[full]: {reason}" in text and "| test_attention[separable] |" in text
    assert json.loads((results / "cpu-2c-test.json").read_text())["not_run"][0]["name"] == "test_attention[full]"
