"""Behaviour pinned across refactors: each preset's version, made through the command line on the
fake OpenAI-compatible server with a scripted teacher, has the content_sha256 recorded here. The
figures were taken on the code before the command layer / session / method-package move (issue 16,
commit 16f8975) and must not change unless the data a preset makes is meant to change.

A change that is meant to change the data updates PINNED in the same commit and says why.
- issue 12: the main-job preset adds minhash, quality, toxicity and decontaminate to its filters.
  On the scripted teacher they drop nothing (23 kept before and after), but the filter list is part
  of the run config, so of the run id in every lineage: self_instruct and its refilter changed.
- issue 31: Self-Instruct overlaps rounds by default (method_cfg.overlap_rounds: round r+1's instructions are
  asked with round r's instances, so its prompts show machine tasks up to round r-1): the option joins the
  run config and round 2's lineage parents change; self_instruct and its refilter changed.
"""
from __future__ import annotations

import pytest

from extras import needs

needs("toxicity")  # the main job's preset runs the toxicity filter

from datagen.cli import main  # noqa: E402
from datagen.versions import open_version  # noqa: E402
from fake_openai_server import FakeOpenAIServer  # noqa: E402
from scripted_teacher import scripted_reply  # noqa: E402

# The base URL is part of the run config, so of the run id in every lineage: it stays this one while the
# fake server listens on a free port, reached as the client's HTTP proxy (absolute-form request lines).
# Nothing listens on 47831.
PINNED_URL = "http://127.0.0.1:47831/v1"
PINNED = {
    "self_instruct": "050d90765cf6799b0f5fa03ba9f12db159e76c29e4d40cb4b993dbd50fb9f0fa",
    "evol_instruct": "c2ff2447e3c4fcec4c4ae8b10e992b7263ba2bf0b5fcac537e88684eb49bca78",
    "self_align": "ad4d17de074aa7275a6f5594207d4a75d7bd670975a3340c384e9b7a52738b30",
    "self_align_pairs": "e08b35d81db93065949916cc9e830c2436bf3c5389ccdcffc5916b8d1801316d",
    "answer": "09bad0fdf34307629f191b5918e324181ef2af3e71d631da272a9835e636a66c",
    "refilter": "a245c09a8cd8e4f14147d79f0d9934387540f8776eb38847835c7c3f308b08e7",
}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    out = tmp_path_factory.mktemp("pinned") / "runs"
    with FakeOpenAIServer(reply=scripted_reply) as srv, pytest.MonkeyPatch.context() as mp:
        proxy = srv.url.removesuffix("/v1")
        for var in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
            mp.delenv(var, raising=False)
        mp.setenv("HTTP_PROXY", proxy)
        mp.setenv("http_proxy", proxy)
        teacher = ["--teacher", "openai", "--base-url", PINNED_URL, "--model", "fake-model", "--out", str(out)]
        steps = {
            "self_instruct": ["generate", *teacher, "--method_cfg.num_instructions", "12",
                              "--method_cfg.max_rounds", "3"],
            "evol_instruct": ["generate", "--method", "evol_instruct", "--from", "self_instruct", "--rounds", "2",
                              *teacher],
            "self_align": ["generate", "--method", "self_align", *teacher],
            "self_align_pairs": ["generate", "--method", "self_align", "--pairs", "principles", "--name",
                                 "pairs", *teacher],
            "answer": ["generate", "--method", "answer", "--method_cfg.limit", "8", *teacher],
        }
        got = {}
        for key, argv in steps.items():
            assert main(argv) == 0, key
            name = {"self_align_pairs": "pairs"}.get(key, key)
            got[key] = open_version(name, out).manifest()
        assert main(["filter", "--from", "self_instruct", "--filters", "exact_dup,minhash,quality",
                     "--out", str(out)]) == 0
        got["refilter"] = open_version("self_instruct", out).manifest()
    return got


@pytest.mark.parametrize("key", list(PINNED))
def test_preset_content_is_pinned(made, key):
    m = made[key]
    assert m["counts"]["kept"] > 0, f"{key}: the scripted teacher should give kept records"
    assert m["content_sha256"] == PINNED[key], f"{key}: kept {m['counts']['kept']}"
