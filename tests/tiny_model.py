"""A tiny random Llama and a tokenizer trained on the test strings, built in the test: no download.

    build_tiny_model(tmp_path / "tiny") -> Path with config.json, model.safetensors, tokenizer files
"""
from __future__ import annotations

from pathlib import Path

from datagen.versions import write_version
from datagen.record import Lineage, Record
from datagen.hf.models import CHATML_TEMPLATE

QA = [
    ("Name a primary color.", "Red is a primary color."),
    ("What is two plus two?", "Two plus two is four."),
    ("Give a synonym for happy.", "A synonym for happy is glad."),
    ("Which animal barks?", "A dog barks."),
    ("What is the opposite of hot?", "The opposite of hot is cold."),
    ("Name a fruit that is yellow.", "A banana is yellow."),
]
WORSE = ["I do not know.", "Maybe.", "No idea at all.", "Cannot say.", "Unsure.", "Ask someone else."]


def corpus() -> list[str]:
    roles = ["<|im_start|>system\n", "<|im_start|>user\n", "<|im_start|>assistant\n", "<|im_end|>\n"]
    return roles + [q for q, _ in QA] + [a for _, a in QA] + WORSE


def build_tokenizer(chat_template: str | None = CHATML_TEMPLATE, chatml_tokens: bool = True):
    """Byte-level BPE trained on the test strings (a few ms), wrapped as a transformers fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|pad|>", "<|endoftext|>"] + (["<|im_start|>", "<|im_end|>"] if chatml_tokens else [])
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tk.train_from_iterator(corpus(), trainer=trainer)
    eos = "<|im_end|>" if chatml_tokens else "<|endoftext|>"
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token=eos, pad_token="<|pad|>")
    if chat_template:
        tok.chat_template = chat_template
    return tok


def build_tiny_model(path: Path, chat_template: str | None = CHATML_TEMPLATE, chatml_tokens: bool = True) -> Path:
    """LlamaForCausalLM with hidden size 32 and 2 layers (about 40k parameters), saved with its tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = build_tokenizer(chat_template, chatml_tokens)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                      bos_token_id=None, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                      tie_word_embeddings=False)
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(path))
    tok.save_pretrained(str(path))
    return path


def sft_records(n: int = len(QA)) -> list[Record]:
    lin = Lineage(method="answer", teacher="fake")
    return [Record.make(q, output=a, lineage=lin) for q, a in QA[:n]]


def pair_records(n: int = len(QA)) -> list[Record]:
    lin = Lineage(method="self_align", teacher="fake")
    return [Record.make(q, output=a, rejected=w, lineage=lin) for (q, a), w in zip(QA[:n], WORSE)]


def write(runs: Path, name: str, records: list[Record]):
    return write_version(runs, name, records, [], {"method": records[0].lineage.method if records else "answer"})
