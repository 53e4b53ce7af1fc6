"""The centre's store on SQLite and PostgreSQL alike: versioned migrations, first copy wins, newest
status wins, the queries of `liveguard results`, and clear errors for a bad URL or a newer store."""

from __future__ import annotations

import pytest
from broker import free_port
from pydantic import ValidationError

from edge.centre.store import MIGRATIONS, SCHEMA_VERSION, Record, ResultQuery, open_store
from edge.config import parse_config
from edge.config.models import StoreConfig
from edge.errors import TransportError


def result(key: str, site: str, device: str, stream: str, received: float, brand: str, engine: str = "local-rules") -> Record:
    document = {"schema": "liveguard.result/1", "evidence_id": key, "engine": engine, "brand": brand,
                "product_name": f"{brand} Serum", "category": None, "key_attributes": {}, "price": None,
                "confidence": {}, "support": {"brand": ["ocr"]}}
    return Record("result", key, site, device, stream, f"liveguard/{site}/{device}/{stream}/result", received, document)


def status(device: str, state: str, received: float) -> Record:
    return Record("status", "", "lab", device, None, f"liveguard/lab/{device}/status", received,
                  {"schema": "liveguard.status/1", "state": state})


def test_a_new_store_is_migrated_once_and_a_newer_one_is_refused(store_url):
    with open_store(StoreConfig(url=store_url)) as store:
        assert store.version() == SCHEMA_VERSION
    with open_store(StoreConfig(url=store_url)) as store:  # reopened: nothing applied twice
        assert store.version() == SCHEMA_VERSION
        store._execute("INSERT INTO schema_migrations (version, applied, description) VALUES (?, ?, ?)",
                       (SCHEMA_VERSION + 1, 0.0, "from the future"))
    with pytest.raises(TransportError, match=f"schema version {SCHEMA_VERSION + 1}, newer than this program's") as caught:
        open_store(StoreConfig(url=store_url))
    assert "\n" not in str(caught.value)


def test_the_first_copy_wins_and_the_newest_status_wins(store_url):
    with open_store(StoreConfig(url=store_url)) as store:
        first = result("a" * 32, "lab", "cam-1", "s1", 10.0, "AQUAVERA")
        later = result("a" * 32, "lab", "cam-1", "s1", 11.0, "Other")
        written = store.write([first, later])
        assert (written.stored, written.duplicates) == ({"result": 1}, {"result": 1})
        assert [row["result"]["brand"] for row in store.results()] == ["AQUAVERA"]
        store.write([status("cam-1", "online", 20.0)])
        store.write([status("cam-1", "offline", 19.0)])  # an older document arriving late changes nothing
        assert [(d["device"], d["state"]) for d in store.devices()] == [("cam-1", "online")]
        store.write([status("cam-1", "offline", 21.0)])
        assert [d["state"] for d in store.devices()] == ["offline"]
        assert store.counters() == {"stored:result": 1, "duplicate:result": 1, "stored:status": 3}


def test_the_result_queries_filter_by_place_time_text_and_engine(store_url):
    rows = [result("1" * 32, "lab", "cam-1", "s1", 100.0, "AQUAVERA"), result("2" * 32, "lab", "cam-2", "s1", 200.0, "Nordic_Bloom"),
            result("3" * 32, "hq", "cam-1", "s2", 300.0, "100% Pure", engine="qwen-plus")]
    with open_store(StoreConfig(url=store_url)) as store:
        store.write(rows)

        def ids(**filters) -> list[str]:
            return [row["result"]["evidence_id"][0] for row in store.results(ResultQuery(**filters))]

        assert ids() == ["3", "2", "1"]  # newest first
        assert ids(site="lab") == ["2", "1"] and ids(device="cam-1") == ["3", "1"] and ids(stream="s2") == ["3"]
        assert ids(since=200.0) == ["3", "2"] and ids(until=200.0) == ["1"] and ids(since=150, until=250) == ["2"]
        assert ids(text="aqua") == ["1"] and ids(text="SERUM") == ["3", "2", "1"]  # brand or product name, any case
        assert ids(text="Nordi__Bloom") == [] and ids(text="_") == ["2"] and ids(text="100%") == ["3"]  # LIKE's wildcards are text
        assert ids(engine="qwen-plus") == ["3"] and ids(limit=1) == ["3"]
        assert all(row["evidence"] is None for row in store.results())  # their evidence has not arrived


def test_the_page_s_filters_new_after_a_time_claim_flags_and_a_low_confidence_field(store_url):
    flag = {"rule": "absolute-terms", "rule_set": "cn-mainland", "family": "absolute", "reference": "r", "severity": "high",
            "matched": "最佳", "text": "最佳", "modality": "asr", "segment": [0.0, 1.0]}
    rows = [result(str(i) * 32, "lab", "cam-1", "s1", 100.0 * i, "B") for i in (1, 2, 3, 4)]
    rows[0].document["claims"] = [flag]
    rows[1].document["confidence"] = {"brand": 0.3, "price": 0.1}  # price has no value: not a low field
    rows[2].document["confidence"] = {"brand": 0.9}
    rows[3].document.update(claims=[flag, flag], confidence={"brand": 0.4})
    with open_store(StoreConfig(url=store_url)) as store:
        store.write(rows)

        def ids(**filters) -> list[str]:
            return [row["result"]["evidence_id"][0] for row in store.results(ResultQuery(**filters))]

        assert ids(after=200.0) == ["4", "3"] and ids(after=400.0) == []
        assert ids(flagged=True) == ["4", "1"] and ids(flagged=True, limit=1) == ["4"]
        assert ids(low_confidence=0.5) == ["4", "2"] and ids(low_confidence=0.35) == ["2"]
        assert ids(low_confidence=0.5, flagged=True) == ["4"]
        assert store.result("2" * 32)["result"]["confidence"]["brand"] == 0.3 and store.result("9" * 32) is None


def test_bad_store_urls_are_refused_with_one_line_naming_the_field(tmp_path):
    with pytest.raises(ValidationError, match="a password in the url is refused") as caught:
        StoreConfig(url="postgresql://collector:hunter2@db/liveguard")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ValidationError, match="expected sqlite:///PATH or postgresql://USER@HOST/DB"):
        StoreConfig(url="mysql://db/liveguard")
    config = parse_config({"centre": {"store": {"url": "sqlite:///state/centre.sqlite"}}}, source="x.yaml", base_dir=tmp_path)
    assert config.centre.store.url == f"sqlite:///{tmp_path.resolve()}/state/centre.sqlite"  # relative to the YAML file


def test_an_unreachable_postgresql_is_one_line_naming_the_url():
    url = f"postgresql://collector@127.0.0.1:{free_port()}/liveguard"
    pytest.importorskip("psycopg")
    with pytest.raises(TransportError) as caught:
        open_store(StoreConfig(url=url, connect_timeout_s=2))
    assert str(caught.value).startswith(f"{url}: cannot open the store:") and "\n" not in str(caught.value)


def test_collectors_starting_together_migrate_once(store_url):
    from concurrent.futures import ThreadPoolExecutor

    def start(_: int) -> int:
        with open_store(StoreConfig(url=store_url)) as store:
            return store.version()

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(start, range(4))) == [SCHEMA_VERSION] * 4
    with open_store(StoreConfig(url=store_url)) as store:
        assert store._execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == len({v for v, *_ in MIGRATIONS})
