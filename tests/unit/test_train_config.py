"""Training recipes (classifiers/train/recipes/*.toml) read into TrainConfig (classifiers/train/config.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.train.config import RECIPES_DIR, RecipeError, TrainConfig, load_recipe


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_recipes_chain_into_the_shipped_model() -> None:
    """stage1 pretrains and fine-tunes, stage2 fine-tunes that again, shipped continues from stage2 on the authored
    corpus and writes the default model."""
    stage1 = load_recipe(RECIPES_DIR / "stage1.toml")
    assert stage1.out == Path("../qy_build/model-stage1") and stage1.seed == 13 and stage1.base_model is None
    assert stage1.pretrain.steps == 15000 and stage1.threads == 2
    stage2 = load_recipe(RECIPES_DIR / "stage2.toml")
    assert stage2.out == Path("../qy_build/model-stage2") and stage2.base_model == stage1.out
    assert (stage2.seed, stage2.finetune.seed, stage2.threads) == (13, 14, 1)
    assert (stage2.data.replies, stage2.finetune.max_steps, stage2.finetune.lr) == (1500, 1200, 1e-4)
    assert (stage2.finetune.ema, stage2.finetune.cue_tags) == (0.998, 0.5)
    # everything else is a default, as the flags left it
    defaults = TrainConfig()
    assert stage2.pretrain == stage1.pretrain.__class__() and stage2.evaluation == defaults.evaluation
    assert (stage2.finetune.epochs, stage2.finetune.input_mask, stage2.finetune.label_smoothing) == (4.0, 0.15, 0.1)
    shipped = load_recipe(RECIPES_DIR / "shipped.toml")
    assert shipped.out == Path("classifiers/models/default") and shipped.base_model == stage2.out
    assert shipped.pretrain.continue_steps == 2000 and shipped.data.authored_weight == 3
    assert (shipped.evaluation.combiner, shipped.evaluation.no_evidence_factor) == ("tuned", 1.0)
    assert shipped.evaluation.min_precision == 0.98


def test_every_recipe_loads() -> None:
    for recipe in RECIPES_DIR.glob("*.toml"):
        assert isinstance(load_recipe(recipe), TrainConfig), recipe


def test_an_unknown_key_names_the_key_and_the_recipe(tmp_path: Path) -> None:
    recipe = write(tmp_path / "typo.toml", "seed = 3\n[finetune]\nlearning_rate = 1e-4\n")
    with pytest.raises(RecipeError, match=r"typo\.toml.*unknown key 'finetune\.learning_rate'"):
        load_recipe(recipe)
    with pytest.raises(RecipeError, match=r"unknown key 'pooling'"):
        load_recipe(write(tmp_path / "gone.toml", 'pooling = "mix"\n'))
    with pytest.raises(RecipeError, match=r"--set finetune\.nope=1: unknown key 'finetune\.nope'"):
        load_recipe(write(tmp_path / "ok.toml", ""), ["finetune.nope=1"])
    with pytest.raises(RecipeError, match="unknown section 'fine'"):
        load_recipe(tmp_path / "ok.toml", ["fine.lr=1"])


def test_values_are_checked_against_their_types(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match=r"'finetune\.max_steps' wants int, got 'many'"):
        load_recipe(write(tmp_path / "a.toml", '[finetune]\nmax_steps = "many"\n'))
    with pytest.raises(RecipeError, match=r"'data' is a section"):
        load_recipe(write(tmp_path / "b.toml", "data = 3\n"))
    with pytest.raises(RecipeError, match=r"b\.toml"):
        load_recipe(write(tmp_path / "b.toml", "seed = [\n"))  # not TOML
    with pytest.raises(RecipeError, match="8 to 512"):
        load_recipe(write(tmp_path / "c.toml", "[evaluation]\ninference_max_length = 4\n"))
    with pytest.raises(RecipeError, match="continues a base_model"):
        load_recipe(write(tmp_path / "d.toml", "[pretrain]\ncontinue_steps = 10\n"))
    with pytest.raises(RecipeError, match=r"missing\.toml: No such file"):
        load_recipe(tmp_path / "missing.toml")


def test_overrides_and_flags_come_after_the_recipe(tmp_path: Path) -> None:
    recipe = write(tmp_path / "r.toml", 'seed = 3\nout = "a"\n[finetune]\nlr = 2e-4\n')
    cfg = load_recipe(
        recipe,
        ["finetune.lr=1e-4", "seed=5", "base_model=../qy_build/m1", "data.extra_train=reviews.jsonl", "bf16=true"],
        out=Path("b"),
        threads=None,  # a flag not given leaves the recipe's value
        corpus=Path("corpus"),
    )
    assert (cfg.finetune.lr, cfg.seed, cfg.out, cfg.threads) == (1e-4, 5, Path("b"), 2)
    assert cfg.base_model == Path("../qy_build/m1") and cfg.data.extra_train == [Path("reviews.jsonl")]
    assert cfg.data.corpus == Path("corpus") and cfg.bf16 is True
    # a path that reads as a number stays a path; a float accepts an integer
    assert load_recipe(recipe, ["base_model=123", "finetune.epochs=2"]).base_model == Path("123")
    assert load_recipe(recipe, ["finetune.epochs=2"]).finetune.epochs == 2.0
    with pytest.raises(RecipeError, match=r"give section\.key=value"):
        load_recipe(recipe, ["seed"])


def test_the_resolved_config_is_plain_json(tmp_path: Path) -> None:
    import json

    cfg = load_recipe(RECIPES_DIR / "stage2.toml")
    plain = json.loads(json.dumps(cfg.to_dict()))
    assert plain["base_model"] == "../qy_build/model-stage1" and plain["finetune"]["seed"] == 14
    assert isinstance(plain["bf16"], bool)  # resolved from the CPU when the recipe leaves it out
