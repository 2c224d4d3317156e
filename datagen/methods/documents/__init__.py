"""Documents: your files in, grounded question and answer pairs out. The documents (markdown, text,
HTML, PDF, DOCX: datagen/documents/) are read and cut into chunks that follow their headings and
paragraphs; for each chunk and question kind the teacher writes a question and quotes the sentence it
rests on, which must occur word for word in the chunk; then it answers each question with the chunk in
context. The record is the question and the answer (closed book: the chunk is not in the record unless
`context: input`), and its meta keeps its source: document path, sha256, what the span indexes into,
the chunk's character and byte span, section, pages and text, and the evidence's span.

A seeded few questions per document are held out for the knowledge eval (`datagen eval --eval_set
knowledge:VERSION`): they go to the version's rejected rows (stage "heldout"), never to training, and
training records whose question is near one of them go too. An unreadable file is a rejected record
(stage "read") with its reason; no readable document at all is an error.

    run([], teacher, Config(docs=["handbook/"]), ctx)
      -> [Record("How many days of paid leave does an employee get a year?", output="27 days.",
                 meta={"source": {"path": "handbook/leave.md", "span": [120, 980], ...}, ...})]
"""
from __future__ import annotations

from dataclasses import dataclass, field

from datagen.documents import ChunkConfig
from datagen.errors import DatagenError
from datagen.methods.documents.prompts import KINDS
from datagen.methods.documents.steps import run_steps

__all__ = ["Config", "METHOD", "run"]
METHOD = "documents"
EVIDENCE = ("quote", "pick")
CONTEXT = ("none", "input")


@dataclass
class Config:
    docs: list[str] = field(default_factory=list, metadata={
        "help": "documents: files, folders and globs, comma-separated (markdown, text, HTML, PDF, DOCX) (required)"})
    kinds: list[str] = field(default_factory=lambda: list(KINDS), metadata={
        "help": "question kinds asked of every chunk: " + ", ".join(KINDS)})
    chunk_tokens: int = field(default=350, metadata={"min": 16, "help": "most tokens (words and punctuation) "
                                                                        "in a chunk"})
    overlap_tokens: int = field(default=60, metadata={"min": 0, "help": "tokens a chunk repeats from the one "
                                                                        "before it in the same section"})
    min_chunk_tokens: int = field(default=40, metadata={"min": 1, "help": "a section shorter than this joins "
                                                                          "the next one"})
    max_chunks: int | None = field(default=None, metadata={"min": 1, "help": "use only the first N chunks of "
                                                                             "all documents (empty = all)"})
    evidence: str = field(default="quote", metadata={
        "help": "quote: the teacher copies the sentence its question rests on (checked to occur in the chunk) | "
                "pick: a seeded sentence of the chunk is given and the question asked about it"})
    min_evidence_words: int = field(default=5, metadata={"min": 1, "help": "shortest evidence accepted"})
    context: str = field(default="none", metadata={
        "help": "none: records are question -> answer (the student must learn the facts) | input: the chunk "
                "is the record's input (open-book, for retrieval-augmented use)"})
    heldout: int = field(default=2, metadata={"min": 0, "help": "questions per document held out for the "
                                                                "knowledge eval (0 = none)"})
    heldout_min_support: float = field(default=0.6, metadata={
        "min": 0.0, "max": 1.0, "help": "held-out questions are drawn among answers whose content words the chunk "
                                        "supports at least this much (and all of whose numbers it holds)"})
    heldout_jaccard: float = field(default=0.6, metadata={
        "min": 0.0, "max": 1.0, "help": "a training question this close (content-word Jaccard) to a held-out one "
                                        "is dropped"})
    answer_max_tokens: int | None = field(default=None, metadata={"min": 1, "help": "max tokens of an answer "
                                                                                    "(empty = sampling.max_tokens)"})
    question_template: str = field(default="documents/question", metadata={"help": "question template"})
    answer_template: str = field(default="documents/answer", metadata={"help": "answer template"})

    def __post_init__(self) -> None:
        bad = [k for k in self.kinds if k not in KINDS]
        if bad or not self.kinds:
            raise DatagenError(f"method_cfg.kinds: choose from {', '.join(KINDS)}, got {', '.join(bad) or 'none'}")
        if self.evidence not in EVIDENCE:
            raise DatagenError(f"method_cfg.evidence must be one of {', '.join(EVIDENCE)}, got {self.evidence!r}")
        if self.context not in CONTEXT:
            raise DatagenError(f"method_cfg.context must be one of {', '.join(CONTEXT)}, got {self.context!r}")
        if self.overlap_tokens >= self.chunk_tokens:
            raise DatagenError(f"method_cfg.overlap_tokens ({self.overlap_tokens}) must be below chunk_tokens "
                               f"({self.chunk_tokens})")

    @property
    def chunking(self) -> ChunkConfig:
        return ChunkConfig(tokens=self.chunk_tokens, overlap=self.overlap_tokens, min_tokens=self.min_chunk_tokens)


def run(seeds, teacher, cfg: Config, ctx) -> list:
    """`seeds` are not used: the documents are the source."""
    if not cfg.docs:
        raise DatagenError("--method documents needs documents: --method_cfg.docs PATH[,PATH...] (files, folders, "
                           "globs)")
    return run_steps(teacher, cfg, ctx)
