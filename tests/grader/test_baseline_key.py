"""The Q7 baseline's cache key: what the reference accuracy depends on, and nothing it does not."""

from grader.baseline import AccuracyRecipe, cache_key
from grader.checks.q7_accuracy import recipe_for


def recipe() -> AccuracyRecipe:
    return recipe_for("bundled", seed=0)


def test_every_gpu_of_a_host_shares_one_baseline():
    assert cache_key("cuda:1", "bundled", recipe()) == cache_key("cuda", "bundled", recipe())
    assert cache_key("cuda:0", "bundled", recipe())["device"] == "cuda"


def test_the_device_kind_and_profile_still_separate_baselines():
    assert cache_key("cpu", "bundled", recipe()) != cache_key("cuda", "bundled", recipe())
    assert cache_key("cpu", "bundled", recipe()) != cache_key("cpu", "full", recipe())
