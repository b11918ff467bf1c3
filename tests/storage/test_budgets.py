"""Budgets shared through the store: token buckets and run leases, on SQLite and Postgres, across
two `Store`s (as two processes would hold them)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from oxy.storage import Store


def test_a_bucket_is_shared_by_every_store_on_the_database(store: Store, store_url: str) -> None:
    with Store.open(store_url) as other:
        taken = [s.take_token("k", rate=0.01, burst=3) for s in (store, other, store, other)]
        assert taken[:3] == [0.0, 0.0, 0.0]
        assert 99 < taken[3] <= 100  # the 4th waits for a token at 0.01/s
        assert other.take_token("another key", rate=0.01, burst=3) == 0.0


def test_a_bucket_refills_at_its_rate(store: Store) -> None:
    assert store.take_token("k", rate=50.0, burst=1) == 0.0
    wait = store.take_token("k", rate=50.0, burst=1)
    assert 0 < wait <= 0.02
    time.sleep(wait + 0.01)
    assert store.take_token("k", rate=50.0, burst=1) == 0.0


def test_racing_takers_never_get_more_than_the_burst(store: Store, store_url: str) -> None:
    with Store.open(store_url) as other:
        stores = [store, other] * 10
        with ThreadPoolExecutor(8) as pool:
            waits = list(pool.map(lambda s: s.take_token("race", rate=0.001, burst=5), stores))
    assert sum(w == 0.0 for w in waits) == 5


def test_leases_count_across_stores_until_released(store: Store, store_url: str) -> None:
    with Store.open(store_url) as other:
        assert store.acquire_lease("runs:key", cap=2, lease_id="a") is None
        assert other.acquire_lease("runs:key", cap=2, lease_id="b") is None
        assert store.acquire_lease("runs:key", cap=2, lease_id="c") == 2  # refused: 2 held
        assert other.acquire_lease("runs:other", cap=2, lease_id="d") is None  # another scope
        other.release_lease("b")
        assert store.acquire_lease("runs:key", cap=2, lease_id="e") is None
        held_by_other = other.acquire_lease("runs:key", cap=3, lease_id="f")
        assert held_by_other is None
    # `other` closed: its leases went with it.
    assert store.acquire_lease("runs:key", cap=3, lease_id="g") is None
    assert store.acquire_lease("runs:key", cap=3, lease_id="h") == 3
