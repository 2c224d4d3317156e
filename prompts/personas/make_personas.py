"""Write prompts/personas/personas.jsonl: 240 personas combined from the hand-written lists below.

    python prompts/personas/make_personas.py            # rewrites personas.jsonl beside this file
    python prompts/personas/make_personas.py --check    # exit 1 if the file differs from what it would write

Deterministic: the same lists and SEED give the same file, byte for byte. Each persona is one
sentence: an age, an occupation and a situation that fit the age, a place, an interest and something the person is
busy with now, e.g. "a 34-year-old nurse in Manila who keeps bees and is planning a wedding".
The idea of conditioning generation on personas is Persona Hub's (Chan et al. 2024, "Scaling
Synthetic Data Creation with 1,000,000,000 Personas"); the lists and the file are our own.
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

SEED = 2024
COUNT = 240
OUT = Path(__file__).resolve().parent / "personas.jsonl"

AGES = (17, 19, 22, 26, 29, 33, 37, 41, 45, 49, 53, 58, 62, 67, 72, 79)

# (occupation, youngest age, oldest age): a 17-year-old is no doctor, a 79-year-old no apprentice.
OCCUPATIONS = (
    ("high-school student", 15, 18), ("first-year university student", 17, 22),
    ("graduate student in linguistics", 22, 35), ("apprentice electrician", 17, 26),
    ("barista", 17, 40), ("delivery rider", 18, 45), ("software developer", 20, 62),
    ("data analyst", 22, 60), ("nurse", 21, 64), ("primary-school teacher", 22, 65),
    ("secondary-school chemistry teacher", 23, 65), ("farmer", 17, 79), ("fisherman", 17, 72),
    ("truck driver", 21, 66), ("civil engineer", 23, 66), ("architect", 24, 72),
    ("pharmacist", 24, 68), ("family doctor", 27, 70), ("veterinarian", 25, 68),
    ("small-business owner", 22, 79), ("accountant", 22, 67), ("lawyer", 25, 72),
    ("journalist", 22, 70), ("librarian", 23, 68), ("museum curator", 26, 72),
    ("chef", 19, 68), ("baker", 17, 70), ("carpenter", 18, 72), ("plumber", 18, 68),
    ("graphic designer", 19, 60), ("game designer", 20, 55), ("musician", 17, 79),
    ("police officer", 21, 60), ("firefighter", 20, 58), ("social worker", 22, 67),
    ("real-estate agent", 21, 72), ("hotel receptionist", 18, 60), ("airline pilot", 23, 65),
    ("lab technician", 20, 64), ("translator", 22, 79), ("stay-at-home parent", 20, 55),
    ("retired schoolteacher", 60, 90), ("retired factory worker", 60, 90), ("retired engineer", 60, 90),
    ("retired nurse", 60, 90), ("volunteer at a community centre", 17, 90),
)

PLACES = (
    "Lagos", "Nairobi", "Cairo", "Casablanca", "Johannesburg", "Accra", "Mumbai", "Chennai", "Dhaka",
    "Karachi", "Jakarta", "Manila", "Hanoi", "Bangkok", "Seoul", "Osaka", "Chengdu", "Taipei",
    "Istanbul", "Tehran", "Warsaw", "Lisbon", "Glasgow", "Lyon", "Naples", "Rotterdam", "Bergen",
    "Kyiv", "Mexico City", "Bogota", "Lima", "Sao Paulo", "Buenos Aires", "Toronto", "Montreal",
    "rural Iowa", "Houston", "Atlanta", "a small town in Alaska", "Melbourne", "Auckland",
    "a village in the Andes", "a fishing village in Norway", "a mountain town in Nepal",
)

INTERESTS = (
    "keeps bees", "plays chess online", "restores old bicycles", "bakes sourdough bread",
    "collects vinyl records", "runs marathons", "grows vegetables on a balcony", "builds model trains",
    "paints watercolours", "writes short science-fiction stories", "follows professional football closely",
    "birdwatches at weekends", "learns new languages for fun", "repairs vintage radios", "knits",
    "plays the guitar in a local band", "photographs street life", "reads about ancient history",
    "cooks food from other countries", "tracks personal finances in spreadsheets", "hikes in the mountains",
    "teaches children to swim", "builds small robots", "practises yoga", "plays video games with friends",
    "studies the night sky with a telescope", "brews beer at home", "fixes old cars",
    "writes poetry", "volunteers at an animal shelter", "does crossword puzzles", "sews clothes",
    "keeps an aquarium", "cycles everywhere instead of driving", "researches family history", "plays board games",
    "makes pottery", "fishes in nearby lakes", "follows politics closely", "watches documentaries about nature",
)

# (situation, youngest age, oldest age)
SITUATIONS = (
    ("is planning a wedding", 20, 70), ("has just moved to a new city", 17, 79), ("is learning to drive", 16, 45),
    ("is caring for an elderly parent", 30, 70), ("is saving up to buy a house", 20, 50),
    ("is preparing for an exam", 15, 45), ("has just started a new job", 16, 64), ("is training a new puppy", 15, 79),
    ("is recovering from a knee injury", 15, 79), ("is organising a neighbourhood festival", 20, 79),
    ("is writing a first book", 17, 79), ("is planning a long trip abroad", 17, 79),
    ("is trying to eat more healthily", 15, 79), ("is helping a child with homework", 25, 55),
    ("is helping a grandchild with homework", 55, 90), ("is starting a small online shop", 17, 70),
    ("is renovating an old house", 25, 75), ("is learning to code", 15, 70), ("is looking for a new job", 18, 63),
    ("is planning retirement", 48, 66), ("is preparing a speech for a friend's birthday", 15, 90),
)


def make(rng: random.Random) -> str:
    """One persona sentence from the lists, with an occupation and a situation that fit the age."""
    age = rng.choice(AGES)
    jobs = [job for job, lo, hi in OCCUPATIONS if lo <= age <= hi]
    job = rng.choice(jobs)
    situation = rng.choice([text for text, lo, hi in SITUATIONS if lo <= age <= hi])
    place, interest = rng.choice(PLACES), rng.choice(INTERESTS)
    return f"a {age}-year-old {job} in {place} who {interest} and {situation}"


def personas(count: int = COUNT, seed: int = SEED) -> list[dict]:
    """`count` distinct personas, ids p0001..; the same (count, seed) gives the same list."""
    rng, seen, out = random.Random(seed), set(), []
    while len(out) < count:
        text = make(rng)
        if text not in seen:
            seen.add(text)
            out.append({"id": f"p{len(out) + 1:04d}", "persona": text})
    return out


def render(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main(argv: list[str]) -> int:
    text = render(personas())
    if "--check" in argv:
        same = OUT.is_file() and OUT.read_text(encoding="utf-8") == text
        print(f"{OUT}: {'up to date' if same else 'differs from make_personas.py'}")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {COUNT} personas to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
