"""Index and search hits: one HitStore interface, two backends (embedded tantivy, Elasticsearch)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from indexer.base import HitStore, SearchQuery, SearchResult, SortOrder

if TYPE_CHECKING:
    from core.settings import Settings


def open_store(settings: Settings) -> HitStore:
    """Elasticsearch when `settings.elasticsearch_url` is set, else tantivy under `settings.index_dir`."""
    if settings.elasticsearch_url:
        from indexer.elastic_store import ElasticHitStore

        api_key = settings.elasticsearch_api_key.get_secret_value() if settings.elasticsearch_api_key else None
        return ElasticHitStore(
            settings.elasticsearch_url,
            settings.elasticsearch_index,
            api_key=api_key,
            ca_certs=settings.elasticsearch_ca_certs,
            shards=settings.es_shards,
            replicas=settings.es_replicas,
        )
    from indexer.tantivy_store import TantivyHitStore

    settings.index_dir.mkdir(parents=True, exist_ok=True)
    return TantivyHitStore(settings.index_dir / "hits")


__all__ = ["HitStore", "SearchQuery", "SearchResult", "SortOrder", "open_store"]
