"""The docs stay true: the tutorial runs, its code blocks are the script's, the API page is current."""

from __future__ import annotations

import re
import runpy
import shlex
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SCRIPT = DOCS / "examples" / "new_cascade.py"
TUTORIAL = DOCS / "tutorial_new_cascade.md"

sys.path.insert(0, str(DOCS))
import gen_api  # noqa: E402


def script_snippets() -> dict[str, str]:
    """``# --8<-- [start:name]`` ... ``[end:name]`` regions of the tutorial script, dedented."""
    text = SCRIPT.read_text()
    found = re.findall(r"# --8<-- \[start:(\w+)\]\n(.*?)\n[ \t]*# --8<-- \[end:\1\]", text, flags=re.S)
    return {name: textwrap.dedent(body).strip("\n") for name, body in found}


def doc_snippets() -> dict[str, str]:
    """Code blocks of the tutorial page preceded by ``<!-- include: new_cascade.py:name -->``."""
    text = TUTORIAL.read_text()
    found = re.findall(r"<!-- include: examples/new_cascade\.py:(\w+) -->\n```python\n(.*?)\n```", text, flags=re.S)
    return dict(found)


class TestTutorial:
    def test_snippets_exist(self):
        assert set(script_snippets()) == {"build", "train", "sample"}

    def test_doc_blocks_match_script(self):
        script, doc = script_snippets(), doc_snippets()
        assert set(doc) == set(script), "every region of the script is shown once on the page"
        for name in script:
            assert doc[name] == script[name], f"tutorial block {name!r} differs from docs/examples/new_cascade.py"

    def test_doc_block_mismatch_is_detected(self, tmp_path, monkeypatch):
        page = tmp_path / "page.md"
        page.write_text(TUTORIAL.read_text().replace("recurrent=\"tsru_c\"", "recurrent=\"conv_gru\""))
        monkeypatch.setattr(sys.modules[__name__], "TUTORIAL", page)
        assert doc_snippets()["build"] != script_snippets()["build"]

    def test_runs_end_to_end(self, tmp_path):
        mod = runpy.run_path(str(SCRIPT), run_name="tutorial")
        result = mod["main"](["--steps", "1", "--clips", "4", "--batch-size", "2", "--frames", "8",
                              "--out", str(tmp_path)])
        # 8 top frames of 32x32 <- 4 of 16x16 <- 2 of 8x8 (f_t = f_s = 2 at both steps)
        assert result["shapes"] == [(4, 3, 2, 8, 8), (4, 3, 4, 16, 16), (4, 3, 8, 32, 32)]
        assert result["reloaded_levels"] == 3
        assert (tmp_path / "unrolled.png").stat().st_size > 0
        assert (tmp_path / "cascade.json").exists()


class TestApiPage:
    def test_every_public_name_has_a_docstring(self):
        assert gen_api.missing_docstrings() == []

    def test_page_is_current(self):
        assert (DOCS / "api.md").read_text() == gen_api.render(), "run: python docs/gen_api.py"

    @pytest.mark.parametrize("module", ["vidgan_blocks", *(f"vidgan_blocks.{s}" for s in gen_api.SUBPACKAGES)])
    def test_every_public_name_is_listed(self, module):
        page = (DOCS / "api.md").read_text()
        for name in gen_api.public_names(module):
            assert f"`{name}" in page, f"{module}.{name} missing from docs/api.md"

    def test_undocumented_name_is_reported(self, monkeypatch):
        import vidgan_blocks.ops as ops

        def undocumented(x):
            return x

        monkeypatch.setattr(ops, "undocumented", undocumented, raising=False)
        monkeypatch.setattr(ops, "__all__", [*ops.__all__, "undocumented"])
        assert "vidgan_blocks.ops.undocumented" in gen_api.missing_docstrings()
        assert "undocumented(x)" in gen_api.render()

    def test_check_mode_fails_on_stale_page(self, tmp_path, monkeypatch):
        stale = tmp_path / "api.md"
        stale.write_text("# API reference\n")
        monkeypatch.setattr(gen_api, "PAGE", stale)
        assert gen_api.main(["--check"]) == 1


class TestCommands:
    """Every ``python ...`` command quoted in the docs names a file that exists and flags it accepts."""

    def commands(self):
        pages = [*DOCS.glob("*.md"), ROOT / "README.md"]
        for page in pages:
            for line in re.findall(r"`((?:torchrun[^`]*?|python) [^`]+?\.py[^`]*)`", page.read_text()):
                yield page.name, line

    def test_commands_are_found(self):
        assert any("new_cascade.py" in c for _, c in self.commands())

    def test_referenced_scripts_exist(self):
        for page, command in self.commands():
            scripts = [w for w in shlex.split(command) if w.endswith(".py") and "<" not in w]  # <recipe>: a placeholder
            for s in scripts:
                assert (ROOT / s).exists(), f"{page}: `{command}` names a missing file {s}"
