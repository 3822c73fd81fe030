"""The answer cache's rule (``innograph.query.workers.AnswerCache``): what it keeps, and when."""

from __future__ import annotations

from innograph.query.workers import COSTLY_S, Answer, AnswerCache, QueryRequest


def request(n: int) -> QueryRequest:
    return QueryRequest(f"ASK {{}} # {n}", "json", 10, "v1")


def answer(seconds: float, size: int = 10) -> Answer:
    return Answer(b"x" * size, "json", 1, False, seconds)


def test_a_cheap_answer_is_kept_when_asked_a_second_time() -> None:
    cache = AnswerCache(1 << 20)
    assert not cache.put(request(1), answer(0.0001))
    assert cache.get(request(1)) is None
    assert cache.put(request(1), answer(0.0001))
    assert cache.get(request(1)) is not None


def test_a_costly_answer_is_kept_at_once() -> None:
    cache = AnswerCache(1 << 20)
    assert cache.put(request(1), answer(COSTLY_S))
    assert cache.get(request(1)) is not None


def test_one_off_cheap_answers_take_no_room() -> None:
    cache = AnswerCache(1 << 20)
    for n in range(100):
        cache.put(request(n), answer(0.0001, 1000))
    assert all(cache.get(request(n)) is None for n in range(100))


def test_the_requests_seen_once_are_bounded() -> None:
    cache = AnswerCache(4096)  # remembers 4 requests seen once
    for n in range(5):
        cache.put(request(n), answer(0.0001))
    assert not cache.put(request(0), answer(0.0001))  # forgotten: seen once again
    assert cache.put(request(4), answer(0.0001))


def test_the_cache_stays_within_its_bytes() -> None:
    cache = AnswerCache(4000)
    for n in range(10):
        cache.put(request(n), answer(1.0, 900))
    kept = [n for n in range(10) if cache.get(request(n)) is not None]
    assert kept == [6, 7, 8, 9]


def test_an_answer_above_a_quarter_of_the_cache_is_never_kept() -> None:
    cache = AnswerCache(4000)
    assert not cache.put(request(1), answer(1.0, 1001))
