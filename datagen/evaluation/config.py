"""Options of `datagen eval`: which students (and their base) answer which eval set, how the judge
compares them, and where the held-out loss comes from.

    EvalConfig(students=["adapters/self_instruct/sft-0001"], limit=40) -> compares it with its base
"""
from __future__ import annotations

from dataclasses import dataclass, field

from datagen.errors import DatagenError
from datagen.names import check_name
from datagen.session import SamplingConfig, SessionConfig

COMPARISONS = ("base", "students", "reference")
# Answer length when --answer_max_tokens is not given: IFEval's prompts ask for up to 1,200 words, and
# lm-evaluation-harness's ifeval task generates up to 1,280 tokens; datagen's own sets ask for short answers.
ANSWER_TOKENS = {"ifeval": 1280, "datagen": 192, "knowledge": 96}


def judge_sampling() -> SamplingConfig:
    # The judge decides, it does not create: greedy, and room for a short reason before its verdict.
    return SamplingConfig(max_tokens=96, temperature=0.0)


@dataclass
class EvalConfig(SessionConfig):
    students: list[str] = field(default_factory=list, metadata={
        "help": "students to evaluate: adapter folders of `datagen train`, merged model folders, .gguf files, "
                "or openai:MODEL@BASE_URL (required)"})
    base: str = field(default="auto", metadata={
        "help": "base model answering for comparison: auto = the base named in the first adapter's "
                "provenance, none = no base, or a model folder / .gguf"})
    eval_set: str = field(default="bundled", metadata={
        "help": "eval set JSONL: datagen's format (prompt + constraints per line) or IFEval's release file "
                "as it is; bundled = prompts/eval/ifeval.jsonl, heldout = prompts/eval/heldout_if.jsonl (414 prompts, "
                "eval wordings, training and held-out kinds); knowledge:VERSION = the questions --method documents "
                "held out of VERSION, answered closed book and scored against their references"})
    limit: int | None = field(default=None, metadata={"help": "score only the first N prompts", "min": 1})
    name: str = field(default="", metadata={"help": "eval name: results go to <output_dir>/<name>/eNNNN "
                                                    "(empty = the eval set's name)"})
    output_dir: str = field(default="evals", metadata={"help": "where eval results are written"})
    runs: str = field(default="runs", metadata={"help": "where dataset versions live (held-out records)"})
    answer_max_tokens: int | None = field(default=None, metadata={
        "help": "max new tokens of a student's answer (empty = chosen for the eval set: 1280 for an IFEval-format "
                "file, as lm-evaluation-harness gives; 192 for datagen's format)", "min": 1})
    answer_temperature: float = field(default=0.0, metadata={
        "help": "student sampling temperature (0 = greedy, as IFEval scores)", "min": 0.0, "max": 5.0})
    student_engine: str = field(default="auto", metadata={
        "help": "what answers local students and base: auto = llama.cpp from a GGUF of the merged weights where "
                "one can be made, else transformers; llama.cpp (an error where it cannot); transformers"})
    student_format: str = field(default="f32", metadata={
        "help": "weight format of a student's GGUF: f32 | f16 | bf16 | q8_0 (base and students alike)"})
    judge: bool = field(default=True, metadata={"help": "run the pairwise judge (teacher below)"})
    compare: list[str] = field(default_factory=lambda: ["base"], metadata={
        "help": "pairwise comparisons: base (each student vs base), students (first student vs each other), "
                "reference (student vs the held-out records' outputs)"})
    judge_template: str = field(default="eval/pairwise", metadata={"help": "judge prompt under prompts/"})
    knowledge_template: str = field(default="eval/knowledge_judge", metadata={
        "help": "knowledge eval: the judge's prompt (question, reference, answer -> correct or not)"})
    heldout: str = field(default="auto", metadata={
        "help": "held-out records (loss, and the reference comparison): auto = the records each adapter held "
                "out of training, a VERSION (the trainer's seeded split with --num_eval heldout_max), or none"})
    heldout_max: int = field(default=64, metadata={"help": "held-out records used at most", "min": 1})
    sampling: SamplingConfig = field(default_factory=judge_sampling)  # the judge's
    seed: int = field(default=0, metadata={"help": "seed of the judge's and students' sampling and of the "
                                                   "bootstrap"})
    resamples: int = field(default=10_000, metadata={"help": "bootstrap resamples for the 95% intervals",
                                                     "min": 100})

    def check(self) -> None:
        if self.name:  # before any model answers: a bad --name is named at once
            check_name(self.name, "eval name")
        if not self.students:
            raise DatagenError("no students given: --students ADAPTER_OR_MODEL[,...]")
        bad = [c for c in self.compare if c not in COMPARISONS]
        if bad:
            raise DatagenError(f"unknown comparison {bad[0]!r}; choose from: {', '.join(COMPARISONS)}")
        if self.executor != "local":
            raise DatagenError("datagen eval runs locally: --executor local")
