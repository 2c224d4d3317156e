"""IFEval's release format read unchanged, all 25 instruction ids scored strict and loose by the paper's
rules (Zhou et al. 2023, arXiv:2311.07911), with answers written here; and bad rows as one error line."""
import json

import pytest

from datagen.cli import main
from datagen.constraints import score
from datagen.constraints.ifeval_format import IDS
from datagen.errors import DatagenError
from datagen.evaluation.config import ANSWER_TOKENS, EvalConfig
from datagen.evaluation.evalset import load_eval_set

ANYTHING = "Is there anything else I can help with?"
EN_LOWER = "the weather was calm this morning and we walked along the river before breakfast."
# id, kwargs, a passing answer, a failing answer (strict and loose), an answer only the loose rule passes
CASES = [
    ("keywords:existence", {"keywords": ["mom", "mother"]}, "My grandmother and her momentum.", "My father.", None),
    ("keywords:frequency", {"relation": "at least", "keyword": "story", "frequency": 2},
     "A storyteller told a Story.", "One story only.", None),
    ("keywords:forbidden_words", {"forbidden_words": ["rock"]}, "We play rocky music.", "We ROCK all night.", None),
    ("keywords:letter_frequency", {"let_relation": "at least", "letter": "!", "let_frequency": 3},
     "Wow! Great! Yes!", "Wow! Great.", None),
    ("language:response_language", {"language": "fr"},
     "Le chat dort sur le canapé pendant que nous mangeons le dîner.",
     "The cat sleeps on the sofa while we eat dinner together.", None),
    ("length_constraints:number_sentences", {"relation": "less than", "num_sentences": 3},
     "Mr. Li came home. He slept.", "One. Two. Three.", None),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "Para one.\n***\nPara two.",
     "Para one.\n\nPara two.", "Here you go.\n***\nPara one.\n***\nPara two."),
    ("length_constraints:number_words", {"relation": "less than", "num_words": 5}, "one two three four",
     "don't stop me now", "Sure here:\none two three"),
    ("length_constraints:nth_paragraph_first_word", {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "yes"},
     "No.\n\n\"Yes,\" she said.", "No.\n\nIndeed yes.", None),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "[name] at [address]", "[name] only", None),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Hi.\n\np.s. bye", "Hi. Bye.", None),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "* a\n- b", "* a",
     "Two points:\n* a\n* b\n* Hope this helps"),
    ("detectable_format:constrained_response", {}, "My answer is yes. Penguins swim.", "My answer is Yes.", None),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "*a* and **b**", "*a* and ** **", None),
    ("detectable_format:multiple_sections", {"section_spliter": "SECTION", "num_sections": 2},
     "SECTION 1\nA\nSECTION 2\nB\nSECTION 3\nC", "Section 1\nA\nSection 2\nB", None),
    ("detectable_format:json_format", {}, '```json\n{"a": 1}\n```', "a: 1", '{"a": 1}\nHope this helps.'),
    ("detectable_format:title", {}, "<<Hi>>\ntext", "Hi\ntext", None),
    ("combination:two_responses", {}, "A\n******\nB", "A\n******\nA", None),
    ("combination:repeat_prompt", {"prompt_to_repeat": "Write a joke."}, "write a joke. Why did the cow moo?",
     "Why did the cow moo?", "Sure!\nWrite a joke. Why did the cow moo?"),
    ("startend:end_checker", {"end_phrase": ANYTHING}, "Blue. " + ANYTHING, ANYTHING + " Bye.",
     "Blue.\n" + ANYTHING + "\n*Cheers*"),
    ("change_case:capital_word_frequency", {"capital_relation": "less than", "capital_frequency": 2},
     "it is OK.", "I am OK.", None),
    ("change_case:english_capital", {}, EN_LOWER.upper(), "DAS IST EIN DEUTSCHER SATZ ÜBER DAS WETTER VON HEUTE.",
     None),
    ("change_case:english_lowercase", {}, EN_LOWER, "das ist ein deutscher satz über das wetter von heute morgen.",
     "Sure:\n" + EN_LOWER),
    ("punctuation:no_comma", {}, "No commas.", "Yes, commas.", "Sure, here:\nno commas"),
    ("startend:quotation", {}, '"All quoted."', 'Not "quoted".', 'Here:\n"All quoted."'),
]


def write_release(tmp_path, rows, name="input_data.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def release_rows():
    return [{"key": 1000 + i, "prompt": f"Prompt {i}.", "instruction_id_list": [iid], "kwargs": [kw]}
            for i, (iid, kw, *_) in enumerate(CASES)]


def test_cases_cover_all_25_instruction_ids():
    assert len(IDS) == 25 and {c[0] for c in CASES} == set(IDS)


@pytest.fixture
def release(tmp_path):
    return load_eval_set(write_release(tmp_path, release_rows()))


def test_the_release_file_loads_unchanged(release):
    assert release.format == "ifeval" and [p.id for p in release.prompts][:2] == ["1000", "1001"]
    assert len(release.prompts) == 25 and all(len(p.constraints) == 1 for p in release.prompts)


@pytest.mark.parametrize("i", range(len(CASES)), ids=[c[0] for c in CASES])
def test_each_instruction_id_strict_and_loose(release, i):
    iid, _, good, bad, loose_only = CASES[i]
    p = release.prompts[i]
    assert score(list(p.constraints), good, p.prompt) == {"strict": [True], "loose": [True]}, iid
    assert score(list(p.constraints), bad, p.prompt) == {"strict": [False], "loose": [False]}, iid
    if loose_only:
        assert score(list(p.constraints), loose_only, p.prompt) == {"strict": [False], "loose": [True]}, iid


def test_null_kwargs_are_unused_arguments(tmp_path):
    # The copy on the Hugging Face Hub gives every kwarg of every id, null where unused.
    nulls = {"num_words": None, "relation": None, "keywords": None, "num_highlights": None}
    row = {"key": 7, "prompt": "Hi.", "instruction_id_list": ["punctuation:no_comma", "length_constraints:number_words"],
           "kwargs": [nulls, {**nulls, "relation": "at least", "num_words": 3}]}
    p = load_eval_set(write_release(tmp_path, [row])).prompts[0]
    assert [c.to_dict() for c in p.constraints] == [
        {"kind": "no_commas"}, {"kind": "word_count", "relation": "at_least", "n": 3}]


def test_the_same_id_twice_and_duplicated_kinds_are_not_contradictions(tmp_path):
    row = {"key": 1, "prompt": "Caps.", "instruction_id_list": ["change_case:capital_word_frequency"] * 2,
           "kwargs": [{"capital_relation": "less than", "capital_frequency": 10},
                      {"capital_relation": "at least", "capital_frequency": 1}]}
    p = load_eval_set(write_release(tmp_path, [row])).prompts[0]
    assert score(list(p.constraints), "One WORD.", p.prompt)["strict"] == [True, True]


@pytest.mark.parametrize("ids, kwargs, match", [
    (["punctuation:no_coma"], [{}], r"line 2: instruction 1 \(punctuation:no_coma\): unknown instruction id"),
    (["length_constraints:number_words"], [{"relation": "at least", "num_words": "300"}],
     "kwarg 'num_words' must be an integer, got '300'"),
    (["length_constraints:number_words"], [{"relation": "more than", "num_words": 3}],
     "kwarg 'relation' must be 'less than' or 'at least'"),
    (["keywords:existence"], [{"keywords": "mom"}], "kwarg 'keywords' must be a list of strings"),
    (["keywords:existence"], [{"keywords": ["mom"], "num_words": 4}], "does not take 'num_words'"),
    (["length_constraints:number_words"], [{"relation": "at least"}], "needs kwarg 'num_words'"),
    (["punctuation:no_comma", "startend:quotation"], [{}], "one object per instruction"),
    (["change_case:english_capital", "change_case:english_lowercase"], [{}, {}], "contradictory constraints"),
    (["length_constraints:number_words"] * 2, [{"relation": "at least", "num_words": 300},
                                              {"relation": "less than", "num_words": 100}],
     "contradictory constraints: word_count"),
    ([], [], "'instruction_id_list' must be a non-empty list"),
])
def test_bad_rows_name_the_line(tmp_path, ids, kwargs, match):
    ok = {"key": 1, "prompt": "Fine.", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}
    path = write_release(tmp_path, [ok, {"key": 2, "prompt": "Bad.", "instruction_id_list": ids, "kwargs": kwargs}])
    with pytest.raises(DatagenError, match=match) as info:
        load_eval_set(path)
    assert str(info.value).startswith(f"eval set {path} line 2: ")


def test_bad_rows_are_one_error_line_at_the_command(tmp_path, capsys):
    path = write_release(tmp_path, [{"key": 1, "prompt": "Hi.", "instruction_id_list": ["punctuation:no_coma"],
                                     "kwargs": [{}]}])
    code = main(["eval", "--students", "openai:m@http://127.0.0.1:9/v1", "--base", "none", "--eval_set", str(path),
                 "--out", str(tmp_path / "evals")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("datagen: error: ") and err.count("\n") == 1
    assert "line 1" in err and "unknown instruction id 'punctuation:no_coma'" in err


def test_answer_length_is_chosen_for_the_eval_set(release):
    assert EvalConfig().answer_max_tokens is None
    assert ANSWER_TOKENS[release.format] == 1280 and ANSWER_TOKENS[load_eval_set().format] == 192
