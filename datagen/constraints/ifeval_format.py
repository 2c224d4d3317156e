"""The IFEval release's format (Zhou et al. 2023, arXiv:2311.07911), read unchanged: one JSON object a
line with `key`, `prompt`, `instruction_id_list` and `kwargs` (one object per instruction; a null value
means "not used", as in the copy on the Hugging Face Hub). Each of the 25 instruction ids maps to a
datagen kind; its kwargs are renamed to that kind's arguments and type-checked here, so an error names
the IFEval kwarg. The release is for evaluation only: datagen never trains on it.

    from_ifeval(["punctuation:no_comma"], [{}], "line 1") -> [Constraint("no_commas", {})]
"""
from __future__ import annotations

from datagen.constraints.constraint import Constraint
from datagen.errors import DatagenError

# IFEval's relation words and the fixed options of detectable_format:constrained_response.
RELATION = {"less than": "less_than", "at least": "at_least"}
YES_NO_MAYBE = ("My answer is yes.", "My answer is no.", "My answer is maybe.")

# instruction id -> (datagen kind, {IFEval kwarg: (datagen argument, type)}); types: int, str, words, relation.
IDS: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "keywords:existence": ("include_keywords", {"keywords": ("keywords", "words")}),
    "keywords:frequency": ("keyword_frequency", {"keyword": ("keyword", "str"), "frequency": ("n", "int"),
                                                 "relation": ("relation", "relation")}),
    "keywords:forbidden_words": ("forbidden_words", {"forbidden_words": ("words", "words")}),
    "keywords:letter_frequency": ("letter_frequency", {"letter": ("letter", "str"), "let_frequency": ("n", "int"),
                                                       "let_relation": ("relation", "relation")}),
    "language:response_language": ("response_language", {"language": ("language", "str")}),
    "length_constraints:number_sentences": ("sentence_count", {"num_sentences": ("n", "int"),
                                                               "relation": ("relation", "relation")}),
    "length_constraints:number_paragraphs": ("paragraph_count", {"num_paragraphs": ("n", "int")}),
    "length_constraints:number_words": ("word_count", {"num_words": ("n", "int"), "relation": ("relation", "relation")}),
    "length_constraints:nth_paragraph_first_word": ("nth_paragraph_first_word", {
        "num_paragraphs": ("n", "int"), "nth_paragraph": ("nth", "int"), "first_word": ("first_word", "str")}),
    "detectable_content:number_placeholders": ("placeholder_count", {"num_placeholders": ("n", "int")}),
    "detectable_content:postscript": ("postscript", {"postscript_marker": ("marker", "str")}),
    "detectable_format:number_bullet_lists": ("bullet_points", {"num_bullets": ("n", "int")}),
    "detectable_format:constrained_response": ("answer_from_options", {}),
    "detectable_format:number_highlighted_sections": ("highlight_count", {"num_highlights": ("n", "int")}),
    "detectable_format:multiple_sections": ("section_count", {"section_spliter": ("splitter", "str"),
                                                              "num_sections": ("n", "int")}),
    "detectable_format:json_format": ("json_format", {}),
    "detectable_format:title": ("title", {}),
    "combination:two_responses": ("two_responses", {}),
    "combination:repeat_prompt": ("repeat_prompt", {"prompt_to_repeat": ("prompt_to_repeat", "str")}),
    "startend:end_checker": ("ends_with", {"end_phrase": ("phrase", "str")}),
    "startend:quotation": ("quotation", {}),
    "change_case:capital_word_frequency": ("capital_word_frequency", {"capital_frequency": ("n", "int"),
                                                                      "capital_relation": ("relation", "relation")}),
    "change_case:english_capital": ("uppercase", {}),
    "change_case:english_lowercase": ("lowercase", {}),
    "punctuation:no_comma": ("no_commas", {}),
}
_TYPE_WORDS = {"int": "an integer", "str": "a string", "words": "a list of strings",
               "relation": "'less than' or 'at least'"}


def is_ifeval_row(obj: dict) -> bool:
    return "instruction_id_list" in obj or "kwargs" in obj


def _typed(value: object, kind: str) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "words":
        return isinstance(value, list) and all(isinstance(w, str) for w in value)
    if kind == "relation":
        return value in RELATION
    return isinstance(value, str)


def _one(iid: object, kwargs: object, where: str) -> Constraint:
    if not isinstance(iid, str) or iid not in IDS:
        raise DatagenError(f"{where}: unknown instruction id {iid!r} (IFEval's ids: {', '.join(sorted(IDS))})")
    if kwargs is None:
        kwargs = {}
    if not isinstance(kwargs, dict):
        raise DatagenError(f"{where}: kwargs of {iid} must be an object, got {kwargs!r}")
    kind, names = IDS[iid]
    used = {k: v for k, v in kwargs.items() if v is not None}
    extra = sorted(set(used) - set(names))
    if extra:
        raise DatagenError(f"{where}: {iid} does not take {', '.join(map(repr, extra))} "
                           f"(its kwargs: {', '.join(names) or 'none'})")
    args: dict = {"options": list(YES_NO_MAYBE)} if kind == "answer_from_options" else {}
    if kind == "paragraph_count":
        args["separator"] = "***"  # IFEval's paragraphs are split by the markdown divider only
    for name, (arg, typ) in names.items():
        if name not in used:
            if kind == "repeat_prompt":
                continue  # empty = the prompt itself
            raise DatagenError(f"{where}: {iid} needs kwarg {name!r} ({_TYPE_WORDS[typ]})")
        if not _typed(used[name], typ):
            raise DatagenError(f"{where}: {iid} kwarg {name!r} must be {_TYPE_WORDS[typ]}, got {used[name]!r}")
        args[arg] = RELATION[used[name]] if typ == "relation" else used[name]
    try:
        return Constraint(kind, args)
    except DatagenError as exc:  # a value out of range: name the instruction id
        raise DatagenError(f"{where}: {iid}: {str(exc).split(': ', 1)[-1]}") from None


def from_ifeval(ids: object, kwargs: object, where: str) -> list[Constraint]:
    """The constraints of one IFEval row, or a DatagenError "<where>: ..." naming what is wrong."""
    if not isinstance(ids, list) or not ids:
        raise DatagenError(f"{where}: field 'instruction_id_list' must be a non-empty list of instruction ids")
    if kwargs is None:
        kwargs = [{}] * len(ids)
    if not isinstance(kwargs, list) or len(kwargs) != len(ids):
        raise DatagenError(f"{where}: field 'kwargs' must be a list with one object per instruction "
                           f"({len(ids)}), got {kwargs!r}"[:300])
    return [_one(iid, kw, f"{where}: instruction {i} ({iid})" if isinstance(iid, str) else f"{where}: instruction {i}")
            for i, (iid, kw) in enumerate(zip(ids, kwargs), 1)]
