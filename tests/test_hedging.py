"""The hedging reward (Schulman's proposal: unhedged correct 1, hedged correct 0.5, "I don't know" 0, hedged
wrong -2, wrong -4) on each of its five cases, its hedge and "I don't know" detection, and the bundled reward
as `datagen train grpo --reward hedging` calls it."""
import pytest

from datagen.errors import DatagenError
from datagen.record import Record
from filters.hedging import REWARDS, classify, hedging, is_dont_know, is_hedged
from filters.verifiers import load_verifier

Q = Record.make("What is the capital of Peru?", output="Lima")


@pytest.mark.parametrize("answer,case,reward", [
    ("Lima.", "correct", 1.0),
    ("The capital of Peru is Lima.", "correct", 1.0),
    ("I think it is Lima.", "hedged_correct", 0.5),
    ("Probably Lima, though I'm not entirely sure.", "hedged_correct", 0.5),
    ("I don't know.", "dont_know", 0.0),
    ("I'm not sure what the capital of Peru is, sorry.", "dont_know", 0.0),
    ("I do not have that information.", "dont_know", 0.0),
    ("Maybe it is Cusco.", "hedged_wrong", -2.0),
    ("I don't know, perhaps Arequipa?", "hedged_wrong", -2.0),
    ("I don't know; it's Cusco.", "hedged_wrong", -2.0),  # an abstention that still names a city is a guess
    ("The capital of Peru is Cusco.", "wrong", -4.0),
    ("Cusco", "wrong", -4.0),
])
def test_each_case_gets_its_reward(answer, case, reward):
    assert classify(answer, "Lima", Q.instruction) == case
    assert hedging(answer, Q) == reward == REWARDS[case]


def test_rewards_are_schulmans():
    assert REWARDS == {"correct": 1.0, "hedged_correct": 0.5, "dont_know": 0.0, "hedged_wrong": -2.0, "wrong": -4.0}


def test_hedge_and_dont_know_detection():
    assert is_hedged("It might be Lima.") and is_hedged("As far as I know, Lima.") and is_hedged("I'm not sure.")
    assert not is_hedged("Lima is the capital.") and not is_hedged("It is Lima, surely.")
    assert is_dont_know("I have no idea.") and is_dont_know("Sorry, I don't know the answer to that question.")
    assert not is_dont_know("Lima.") and not is_dont_know("I don't know, maybe Lima.")
    assert not is_dont_know("I think so.")  # a hedge is not an abstention


def test_a_reference_inside_a_longer_word_is_not_correct_and_numbers_compare_as_numbers():
    assert classify("Limassol is in Cyprus.", "Lima") == "wrong"
    assert classify("Two plus two is 4.", "4") == "correct"
    assert classify("I believe the result is 5.", "4") == "hedged_wrong"


def test_the_bundled_verifier_and_the_grpo_reward_use_it():
    from finetune.rewards import RewardArgs, reward_function

    assert load_verifier("hedging") is hedging
    with pytest.raises(ValueError, match="no reference answer"):
        hedging("Lima.", Record.make("What is the capital of Peru?"))
    fn = reward_function(RewardArgs(reward="hedging"))
    answers = ["Lima.", "I think Lima.", "I don't know.", "Maybe Cusco.", "Cusco."]
    cols = {"instruction": [Q.instruction] * 5, "input": [""] * 5, "reference": ["Lima"] * 5}
    assert fn(prompts=[[]] * 5, completions=[[{"role": "assistant", "content": a}] for a in answers],
              **cols) == [1.0, 0.5, 0.0, -2.0, -4.0]
    assert fn.scorer_name == "verifier:hedging"


def test_an_unknown_reward_is_one_line():
    from finetune.rewards import RewardArgs, reward_function

    with pytest.raises(DatagenError, match="unknown scorer 'hedge'"):
        reward_function(RewardArgs(reward="hedge"))
