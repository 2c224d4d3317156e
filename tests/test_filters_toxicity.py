"""Toxicity: our own set of clearly toxic and clean sentences is separated at the default
threshold by the model alt-profanity-check ships, loaded with every socket connection refused;
named classifiers load only from disk and fail with one clear line otherwise."""
import json
import subprocess
import sys
import textwrap

import pytest

from extras import requires

from datagen.errors import DatagenError
from datagen.record import Record
from datagen.filtering import build_filters
from filters.toxicity import make_scorer

TOXIC = [
    "Go to hell, you stupid worthless idiot.",
    "Shut up, you fucking moron.",
    "You are a pathetic piece of shit.",
    "Nobody likes you, you ugly bitch.",
    "What a dumb ass question, are you retarded?",
    "Fuck off and die.",
    "You're nothing but a lying bastard.",
    "I hope you choke, you disgusting pig.",
    "This answer is crap and you are an asshole.",
    "Get lost, you brainless dickhead.",
]
CLEAN = [
    "You are a wonderful person and I appreciate your help.",
    "The mitochondria is the powerhouse of the cell.",
    "Write a Python function that returns the sum of a list.",
    "To terminate a process on Linux, use the kill command with its PID.",
    "The bomb squad defused the device safely.",
    "He shot the basketball from half court.",
    "Translate 'good morning' into Spanish: buenos días.",
    "The patient was diagnosed with a rare blood disorder.",
    "Kill the process with kill -9 to stop it.",
    "Add salt to taste and stir for five minutes.",
    "",  # empty fields are not scored
]

OFFLINE_RUN = textwrap.dedent("""
    import json, socket, sys
    def refuse(*a, **k):
        raise OSError("network disabled in this test")
    socket.socket.connect = refuse
    socket.create_connection = refuse
    from datagen.record import Record
    from datagen.filtering import build_filters
    texts = json.loads(sys.stdin.read())
    (name, fn), = build_filters(["toxicity"])
    recs = [Record.make("Reply to the user.", output=t) for t in texts]
    print(json.dumps([v if v is None else list(v) for v in fn(recs)]))
""")


@requires("toxicity")
def test_toxic_and_clean_sentences_are_separated_offline():
    proc = subprocess.run([sys.executable, "-c", OFFLINE_RUN], input=json.dumps(TOXIC + CLEAN),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    verdicts = json.loads(proc.stdout.strip().splitlines()[-1])
    toxic, clean = verdicts[: len(TOXIC)], verdicts[len(TOXIC):]
    assert all(v is not None and v[0] == "toxic" and v[1].startswith("output p=") for v in toxic), toxic
    assert clean == [None] * len(CLEAN)


def test_detoxify_without_weights_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # no checkpoint can be there
    with pytest.raises(DatagenError, match="detoxify"):
        make_scorer("detoxify")


def test_hf_model_missing_is_a_clear_error(tmp_path):
    with pytest.raises(DatagenError, match="not found"):
        make_scorer(f"hf:{tmp_path / 'nothing'}")
    fn = build_filters([{"name": "toxicity", "model": "nope"}])[0][1]  # lazy: fails on first use
    with pytest.raises(DatagenError, match="unknown toxicity model"):
        fn([Record.make("x", output="y")])


def tiny_classifier(path, bias):
    """A 2-label BERT classifier saved to disk, its head set by hand: label 0 is TOXIC."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "world"])}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="[UNK]", pad_token="[PAD]")
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=64, id2label={0: "TOXIC", 1: "neutral"},
                     label2id={"TOXIC": 0, "neutral": 1})
    model = BertForSequenceClassification(cfg)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor(bias))
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@requires("train")
def test_hf_classifier_loads_from_disk_and_scores_the_named_label(tmp_path):
    toxic_dir = tiny_classifier(tmp_path / "always_toxic", [4.0, 0.0])  # p(TOXIC) = 0.982
    clean_dir = tiny_classifier(tmp_path / "never_toxic", [0.0, 4.0])
    recs = [Record.make("hello", output="hello world")]
    (_, fn), = build_filters([{"name": "toxicity", "model": f"hf:{toxic_dir}", "threshold": 0.9}])
    assert fn(recs)[0][0] == "toxic"
    (_, fn), = build_filters([{"name": "toxicity", "model": f"hf:{clean_dir}", "threshold": 0.9}])
    assert fn(recs) == [None]
