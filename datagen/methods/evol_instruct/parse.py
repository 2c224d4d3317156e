"""Pure parsing and elimination checks for Evol-Instruct (WizardLM, Xu et al. 2023, sec. 3.2).
No teacher, no I/O: every function takes text and returns text, a verdict or a figure.

    parse_rewrite('Rewritten prompt: "Name three red fruits."\\n\\nExplanation: ...') -> "Name three red fruits."
    parse_equal("Different.") -> False
    answer_reason("Sorry, I can't help with that.") -> "answer_refusal"
"""
from __future__ import annotations

import re
import statistics

# Elimination case 4 (WizardLM sec. 3.2): the rewrite copies words of the evolving prompt.
# The first four are the paper's examples; the rest are the labels of our own templates.
LEAK_MARKERS = ("#rewritten prompt#", "#created prompt#", "#given prompt#", "given prompt",
                "rewritten prompt", "created prompt", "original task", "new task:")

# A label the model may put before the rewrite: "Rewritten Prompt:", "**New task:**", "#Created Prompt#".
_LABEL = re.compile(
    r"^\s*[#*_>`\s]*(?:"
    r"#[^#\n]{1,40}#[*_`\s]*(?::|\s[-–\u2014]\s)?"  # "#Rewritten Prompt#"
    r"|(?:here(?:'s| is)\s+(?:the|a|my|your)\s+)?"
    r"(?:(?:rewritten|evolved|new|created|revised|updated|modified|harder|final|more\s+\w+)\s+)?"
    r"(?:prompt|instruction|task|question|version)[*_`]*\s*(?::|\s[-–\u2014]\s)"
    r")[*_`\s]*", re.IGNORECASE)
# A paragraph that explains the rewrite instead of being part of it.
_EXPLANATION = re.compile(
    r"^\s*[*_(\[]*\s*(?:explanation|note|notes|rationale|reasoning|changes?(?: made)?|"
    r"this (?:is|rewritten|new|revised|evolved|version|task|prompt)|the (?:rewritten|new|revised|evolved) "
    r"(?:prompt|task|version)|in this (?:version|rewrite|task)|i (?:have )?(?:added|changed|replaced|made))\b",
    re.IGNORECASE)
_FENCE = re.compile(r"^```[\w-]*\s*\n(.*?)\n```\s*$", re.DOTALL)
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "`": "`", "«": "»"}
_WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?")

# Elimination case 2 (WizardLM sec. 3.2): "contains 'sorry' and is relatively short (< 80 words)".
REFUSAL_MARKERS = ("sorry", "i apologize", "i apologise")
REFUSAL_MAX_WORDS = 80

# Elimination case 3 (WizardLM sec. 3.2): an answer of only punctuation and stop words.
STOP_WORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just let me more
most my myself no nor not now of off on once only or other our ours ourselves out over own same she
should so some such than that the their theirs them themselves then there these they this those
through to too under until up very was we were what when where which while who whom why will with
would yes you your yours yourself yourselves ok okay oh um uh well s t don didn doesn isn it's i'm
""".split())


def parse_rewrite(text: str | None) -> str | None:
    """Messy teacher output -> the evolved instruction, or None when nothing usable is left.

    '**New task:** "Explain X."\\n\\nNote: I added...' -> 'Explain X.'
    """
    text = (text or "").strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    # A first paragraph that is only a label ("Here is the rewritten prompt:") is dropped.
    while len(paras) > 1 and _is_label_only(paras[0]):
        paras.pop(0)
    kept = []
    for i, p in enumerate(paras):
        if i > 0 and _EXPLANATION.match(p):
            break  # everything after the first explanation paragraph is commentary
        kept.append(p)
    text = "\n\n".join(kept)
    for _ in range(3):  # nested labels: "**Rewritten Prompt:** New task: ..."
        stripped = _LABEL.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped.strip()
    # Trailing explanation on the same paragraph: "... in Python. (Note: I added ...)"
    text = re.split(r"\s*\n?\s*\((?:note|explanation)\b", text, maxsplit=1, flags=re.IGNORECASE)[0]
    text = _strip_markdown(text)
    text = _unquote(text)
    text = text.strip()
    return text if _WORD.search(text) else None


def _is_label_only(para: str) -> bool:
    """'Here is the new task:' or '## Evolved instruction' or '**Rewritten Prompt**' -> True."""
    if len(para.split()) > 12 or "\n" in para:
        return False
    if para.rstrip("*_ ").endswith(":"):
        return True
    styled = para.startswith("#") or (para.startswith("**") and para.endswith("**"))
    return styled and re.search(r"(?i)\b(prompt|instruction|task|question|version)\b", para) is not None


def _strip_markdown(text: str) -> str:
    text = re.sub(r"^\s*#{1,6}\s+", "", text)             # a heading marker on the first line
    if text.startswith("**") and text.endswith("**") and text.count("**") == 2:
        text = text[2:-2]
    return text.strip()


def _unquote(text: str) -> str:
    text = text.strip()
    while len(text) >= 2 and text[0] in _QUOTES and text[-1] == _QUOTES[text[0]]:
        inner = text[1:-1].strip()
        if text[0] in inner:  # '"A" and "B"' is not one quoted string
            break
        text = inner
    return text


def leak_reason(rewrite: str, extra_markers: tuple[str, ...] = ()) -> str | None:
    """Case 4: 'Rewrite the #Given Prompt# ...' -> 'prompt_leak'; a clean rewrite -> None."""
    low = rewrite.lower()
    for marker in (*LEAK_MARKERS, *(m.lower() for m in extra_markers)):
        if marker in low:
            return "prompt_leak"
    return None


def parse_equal(text: str | None) -> bool | None:
    """Judge reply -> True (equal), False (not equal) or None (unreadable).

    'Equal.' -> True; 'They are not equal' -> False; 'Different' -> False; 'banana' -> None
    """
    low = re.sub(r"[^a-z\s-]", " ", (text or "").lower())
    low = " ".join(low.split())
    if not low:
        return None
    strong_no = r"\b(?:not (?:equal|the same|identical|equivalent)|unequal|non-equal|isn t equal|aren t equal)\b"
    if re.search(strong_no, low):
        return False
    yes = re.search(r"\b(?:equal|same|identical|equivalent)\b", low)
    no = re.search(r"\b(?:different|differ|differs|distinct)\b", low)
    if yes and no:
        return None  # 'equal or different': no verdict
    if yes or no:
        return bool(yes)
    first = low.split()[0]
    if first == "yes":
        return True
    if first == "no":
        return False
    return None


def words(text: str | None) -> list[str]:
    return _WORD.findall(text or "")


def answer_reason(answer: str) -> str | None:
    """Cases 2 and 3 on a teacher answer -> reason or None.

    'Sorry, I cannot do that.' -> 'answer_refusal'; '... , the of ...' -> 'answer_only_stopwords'
    """
    toks = [w.lower() for w in words(answer)]
    low = answer.lower()
    if any(m in low for m in REFUSAL_MARKERS) and len(answer.split()) < REFUSAL_MAX_WORDS:
        return "answer_refusal"
    if all(t in STOP_WORDS for t in toks):  # also true when only punctuation is left
        return "answer_only_stopwords"
    return None


def length_stats(texts: list[str]) -> dict:
    """Instruction lengths in words: ['a b', 'c'] -> {'words_mean': 1.5, 'words_median': 1.5}."""
    lens = [len(words(t)) for t in texts]
    if not lens:
        return {"words_mean": 0.0, "words_median": 0.0}
    return {"words_mean": round(statistics.fmean(lens), 2), "words_median": float(statistics.median(lens))}


def distinct_n(texts: list[str], n: int = 2) -> float:
    """Distinct-n (Li et al. 2016): unique n-grams / all n-grams over the texts, in [0, 1].

    ['a b c', 'a b d'] -> 0.75 (3 distinct of 4 bigrams)
    """
    grams = []
    for t in texts:
        toks = [w.lower() for w in words(t)]
        grams.extend(tuple(toks[i:i + n]) for i in range(len(toks) - n + 1))
    return round(len(set(grams)) / len(grams), 4) if grams else 0.0


def mean_pairwise_rouge_l(texts: list[str], limit: int = 40) -> float | None:
    """Mean ROUGE-L F over all pairs of the first `limit` texts (lower = more diverse), or None
    with fewer than two texts. ['a b', 'a b'] -> 1.0"""
    from filters.novelty import rouge_l

    sample = texts[:limit]
    pairs = [(a, b) for i, a in enumerate(sample) for b in sample[i + 1:]]
    if not pairs:
        return None
    return round(sum(rouge_l(a, b) for a, b in pairs) / len(pairs), 4)
