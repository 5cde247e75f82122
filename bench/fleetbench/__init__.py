"""A fake platform for bench/bench_fleet.py: a listing of pages, each with full posts, behind a per-IP rate limit."""
