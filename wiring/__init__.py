"""The roof: what wires the stages together (the `qingyuan` command line, the pipeline, crawl-driven jobs and the
scheduler). Nothing below imports it; an import-linter layers contract in pyproject.toml holds that line."""
