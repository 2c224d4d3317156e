"""A seeded corpus of instructions for the novelty tests and benchmarks/novelty.py: templated and
free-form instructions in several scripts, near-duplicate mutations of them (some around the 0.7
ROUGE-L line), edge-case strings, and text pairs for checking rouge_l against rouge_score.

    make_pool(random.Random(0), 3) -> ["Classify these items as cooking or cryptography: ...",
                                       "Find player (2) work 🙂 company; ...", "Find player (2) WORK 🙂 ..."]
"""
from __future__ import annotations

import random

VERBS = ["Write", "Explain", "Describe", "List", "Summarize", "Classify", "Generate", "Create", "Give",
         "Suggest", "Compare", "Rewrite", "Identify", "Find", "Outline", "Draft", "Propose", "Evaluate"]
ADJS = ["short", "funny", "detailed", "formal", "simple", "step-by-step", "persuasive", "concise",
        "well-known", "creative", "naïve", "über-technical", "kid-friendly", "data-driven", "catchy"]
NOUNS = ["poem", "story", "email", "recipe", "summary", "essay", "tweet", "plan", "list", "haiku",
         "dialogue", "review", "résumé", "cover letter", "riddle", "slogan", "FAQ", "lesson plan"]
TOPICS = ["the ocean at night", "café culture in Zürich", "São Paulo's traffic", "naïve Bayes classifiers",
          "crème brûlée", "the Ångström unit", "東京 (Tokyo) subway etiquette", "climate change",
          "the French Revolution", "Dvořák's 9th symphony", "quantum computing", "remote work",
          "photosynthesis", "the C++ STL", "O(n log n) sorting", "a $5.99 budget meal", "Москва in winter",
          "machine learning", "the 2008 financial crisis", "healthy sleep", "piñata parties 🎉",
          "Python's asyncio", "the Ελληνικά alphabet", "volcanoes", "chess openings", "K-pop"]
QUALS = ["urban", "medieval", "renewable", "digital", "tropical", "ancient", "modern", "local", "global",
         "small-business", "open-source", "plant-based", "high-school", "deep-sea", "Arctic", "électrique",
         "financial", "rural", "Victorian", "wireless", "organic", "public", "personal", "historic"]
THINGS = ["gardening", "transport", "banking", "music", "architecture", "farming", "cooking", "robots",
          "libraries", "forests", "elections", "vaccines", "bridges", "startups", "museums", "oceans",
          "cryptography", "bees", "hospitals", "trains", "poetry", "deserts", "taxes", "volcanoes", "fashion",
          "chess", "satellites", "coffee", "languages", "podcasts", "wolves", "glaciers", "bicycles"]
ACTIONS = ["improve", "reduce", "explain", "measure", "teach", "plan", "budget for", "debug", "translate"]
TAILS = ["", " for a 5th-grade class", " in under 100 words", " using at most 3 bullet points",
         ", e.g. with examples", " (max. 2 paragraphs)", " — keep it simple", " for beginners",
         " in 50% fewer words", " in the style of Shakespeare", " with 10+ items", " by 9:30 a.m."]
ENDS = [".", "?", "!", "...", " :)", " 🙂", "", ".\n", "。", "!!", " ?"]
LANGS = ["French", "German", "Japanese (日本語)", "Spanish", "Portuguese", "Türkçe", "Korean 한국어"]
PHRASES = ["I'll be there at 6 o'clock", "Where is the library?", "It's raining cats & dogs",
           "The quick brown fox", "Don't worry, be happy", "See you tomorrow"]
TEMPLATES = [
    "{V} a {adj} {noun} about {topic}{tail}{end}",
    "{V} {num} {adj} ways to {action} {topic}{end}",
    "Given the following {noun}, {v} its main points{tail}{end}",
    "How can I {action} {topic}{tail}{end}",
    "Translate “{phrase}” into {lang}{end}",
    "Is the sentence '{phrase}' positive, negative, or neutral{end}",
    "Write a Python function that sorts {num} numbers in O(n log n) time{end}",
    "What is {num} × {num2} + {num3}%{end}",
    "{V} the pros and cons of {topic} in {num} sentences{end}",
    "Explain 「{topic}」 to a {num}-year-old{tail}{end}",
    "Describe how {topic} affects {topic2}{end}",
    "Generate a list of {num} {adj} names for a {thing} club{end}",
    "Create a quiz with {num} questions on {topic}{tail}{end}",
    "Give an example of {topic} in everyday life{end}",
    "Summarize the history of {topic} in one sentence{end}",
    "Classify these items as {thing} or {thing2}: {topic}, {topic2}{end}",
    "Rewrite the sentence '{phrase}' to sound more {adj}{end}",
    "Provide {num} tips for a {noun} on {topic}{end}",
]


LEADS = ["", "", "", "As a {role}, ", "Imagine you run a {thing} shop. ", "For my {thing} blog, ",
         "You are a {role}; ", "Quick question: ", "Using data from 2019–2023, ", "In Q3, "]
ROLES = ["teacher", "lawyer", "nurse", "chef", "pilot", "historian", "software engineer", "coach", "farmer"]


def make_topic(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(TOPICS)
    topic = f"{rng.choice(QUALS)} {rng.choice(THINGS)}"
    return topic + f" and {rng.choice(THINGS)}" if rng.random() < 0.3 else topic


WORDS = """time people year way day thing man world life hand part child eye woman place work week case point
government company number group problem fact water room mother area money story month lot right study book
job word business issue side kind head house service friend father power hour game line end member law car
city community name president team minute idea kid body information back parent face others level office door
health person art war history party result change morning reason research girl guy moment air teacher force
education foot boy age policy process music market sense nation plan college interest death experience effect
class control care field development role effort rate heart drug show leader light voice wife police mind price
report decision son view relationship town road arm difference value building action model season society tax
director position player record paper space ground form event official matter center couple site project
activity star table need court oil situation cost industry figure street image phone data picture practice
piece land product doctor wall patient worker news test movie north love support technology step baby computer
type attention film tree source organization hair window evidence population site rule energy""".split()
FUNCTION = ["the", "a", "of", "to", "and", "in", "for", "with", "on", "that", "by", "from", "about", "your"]


def make_freeform(rng: random.Random) -> str:
    """A free-form request: a verb, then 6-14 Zipf-weighted words with function words and punctuation."""
    words = [rng.choice(VERBS)]
    for _ in range(rng.randint(6, 14)):
        if rng.random() < 0.35:
            words.append(rng.choice(FUNCTION))
        else:
            w = WORDS[min(int(rng.paretovariate(0.6)) - 1, len(WORDS) - 1)] if rng.random() < 0.3 \
                else rng.choice(WORDS)
            words.append(w + rng.choice(["", "", "", "", "", ",", "'s", " (2)", " 🙂", "é", ";"]))
    return " ".join(words) + rng.choice(ENDS)


def make_instruction(rng: random.Random) -> str:
    """One realistic instruction: words, punctuation, digits, accents, CJK, emoji (8-20 tokens mostly)."""
    if rng.random() < 0.5:
        return make_freeform(rng)
    return make_templated(rng)


def make_templated(rng: random.Random) -> str:
    """One realistic instruction: words, punctuation, digits, accents, CJK, emoji (8-20 tokens mostly)."""
    verb = rng.choice(VERBS)
    lead = rng.choice(LEADS).format(role=rng.choice(ROLES), thing=rng.choice(THINGS))
    return lead + rng.choice(TEMPLATES).format(
        V=verb, v=verb.lower(), adj=rng.choice(ADJS), noun=rng.choice(NOUNS), topic=make_topic(rng),
        topic2=make_topic(rng), thing=rng.choice(THINGS), thing2=rng.choice(THINGS),
        tail=rng.choice(TAILS), end=rng.choice(ENDS), num=rng.randint(2, 12), num2=rng.randint(2, 999),
        num3=rng.randint(1, 99), action=rng.choice(ACTIONS), phrase=rng.choice(PHRASES), lang=rng.choice(LANGS))


def mutate(text: str, rng: random.Random) -> str:
    """A near-duplicate: 1-3 word edits (replace, delete, insert, swap), case or punctuation changes."""
    words = text.split()
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(6)
        i = rng.randrange(len(words)) if words else 0
        if op == 0 and words:
            words[i] = rng.choice(ADJS + NOUNS + VERBS)
        elif op == 1 and len(words) > 1:
            del words[i]
        elif op == 2:
            words.insert(i, rng.choice(ADJS + ACTIONS + ["very", "the", "a", "2", "🙂"]))
        elif op == 3 and len(words) > 1:
            j = min(i + 1, len(words) - 1)
            words[i], words[j] = words[j], words[i]
        elif op == 4 and words:
            words[i] = words[i].upper() if rng.random() < 0.5 else words[i].capitalize()
        elif words:
            words[i] = words[i] + rng.choice([",", ";", "!", "?", "…", "—"])
    return " ".join(words)


def make_pool(rng: random.Random, n: int, near_dup: float = 0.35) -> list[str]:
    """n instructions; a fraction are near-duplicates of earlier ones (some around the 0.7 line)."""
    out: list[str] = []
    for _ in range(n):
        if out and rng.random() < near_dup:
            out.append(mutate(rng.choice(out), rng))
        else:
            out.append(make_instruction(rng))
    return out


EDGE = ["", "   ", "!!!", "?", "a", "A", "a a", "🙂🙂", "東京", "123", "x" * 50, "K", "İstanbul",
        "ﬁnal ﬁle", "１２３ full-width", "straße", "tab\tand\nnewline", "e.g.", "C++ / C#", "a-b_c"]


def pairs(rng: random.Random) -> list[tuple[str, str]]:
    out = [(a, b) for a in EDGE for b in EDGE]  # 400 edge pairs, identical ones included
    out += [(make_instruction(rng), make_instruction(rng)) for _ in range(2000)]
    for k in range(2200):  # near-duplicates, one or two rounds of edits
        a = make_instruction(rng)
        out.append((a, mutate(a, rng) if k % 2 else mutate(mutate(a, rng), rng)))
    for _ in range(150):  # long texts: LCS beyond one 64-bit word
        a = " ".join(make_instruction(rng) for _ in range(rng.randint(5, 12)))
        out.append((a, mutate(mutate(a, rng), rng)))
    for _ in range(300):  # same template family, different slots
        a, b = make_instruction(rng), make_instruction(rng)
        out.append((a, a.split(",")[0] + b))
    return out
