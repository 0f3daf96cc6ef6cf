"""The map behind the scoring path's per-process caches."""

from __future__ import annotations

from service.plumbing.bounded_cache import BoundedCache


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: BoundedCache[str, int] = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recently used

    cache.put("c", 3)

    assert list(cache) == ["a", "c"]
    assert "b" not in cache
    assert cache.get("b") is None


def test_get_or_make_makes_a_missing_value_once_and_remembers_it() -> None:
    cache: BoundedCache[str, str] = BoundedCache(4)
    made: list[str] = []

    def make() -> str:
        made.append("x")
        return "value"

    assert cache.get_or_make("k", make) == "value"
    assert cache.get_or_make("k", make) == "value"
    assert made == ["x"]
    assert len(cache) == 1


def test_a_smaller_size_applies_from_the_next_entry_and_clear_empties_it() -> None:
    cache: BoundedCache[int, int] = BoundedCache(8)
    for n in range(5):
        cache.put(n, n)
    cache.size = 2

    cache.put(5, 5)

    assert list(cache) == [4, 5]
    cache.clear()
    assert len(cache) == 0
