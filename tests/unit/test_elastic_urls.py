"""What the Elasticsearch store reads from its settings, without a server: node URL lists and index versions."""

from __future__ import annotations

import pytest

from indexer.elastic_store import ElasticHitStore, node_urls, redact_url


def test_several_node_urls_in_one_setting() -> None:
    assert node_urls("http://a:9200, http://b:9201/ ,") == ["http://a:9200", "http://b:9201"]
    assert node_urls(["http://a:9200"]) == ["http://a:9200"]
    with pytest.raises(ValueError):
        node_urls(" , ")


def test_versions_order_by_number_not_by_name() -> None:
    names = ["qingyuan-hits-v9", "qingyuan-hits-v10", "qingyuan-hits-v2"]
    assert max(names, key=ElasticHitStore.version_of) == "qingyuan-hits-v10"
    assert ElasticHitStore.version_of("qingyuan-hits") == 0  # the concrete index from before aliases


def test_each_node_url_is_redacted() -> None:
    assert redact_url("https://user:pw@es1.example:9243/") == "https://es1.example:9243/"
