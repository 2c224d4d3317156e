"""`datagen cache-load`: put a batch API's output file into a response cache (docs/teachers.md)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from datagen.cli.flags import parse_command


@dataclass
class CacheLoadArgs:
    file: str = field(default="", metadata={"help": "a batch output JSONL (OpenAI's, or `vllm run-batch -o`) of "
                                                    "requests datagen wrote", "positional": True, "required": True})
    out: str = field(default="runs", metadata={"help": "the runs folder whose cache gets the answers"})
    cache: str = field(default="", metadata={"help": "response cache file (empty = <out>/.cache/responses.sqlite)"})


def cmd_cache_load(argv: list[str]) -> int:
    """Load a batch output file into the response cache: `datagen cache-load OUT.jsonl [--out runs]`."""
    from datagen.backends.batch_mode import load_output
    from datagen.cache import ResponseCache

    a = parse_command(argv, CacheLoadArgs, "datagen cache-load OUT.jsonl [--out runs] [--cache FILE]")
    if a is None:
        return 0
    cache = ResponseCache(a.cache or Path(a.out) / ".cache" / "responses.sqlite")
    try:
        loaded, skipped = load_output(a.file, cache)
    finally:
        cache.close()
    print(f"{loaded} answers loaded into {cache.path}; {skipped} lines without a 2xx answer skipped "
          "(a rerun asks the teacher for those)")
    return 0
