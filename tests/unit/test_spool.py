from core.records import Post
from core.spool import Spool, read_posts


def _post(pid: str, text: str = "t") -> Post:
    return Post(platform="demo", post_id=pid, text=text)


def test_append_and_read_back(tmp_path):
    spool = Spool(tmp_path)
    assert spool.append([_post("1"), _post("2")], job="a") == 2
    assert spool.append([_post("3")], job="b") == 1
    assert sorted(p.key for p in spool) == ["demo:1", "demo:2", "demo:3"]


def test_duplicates_keep_the_newest_fetch(tmp_path):
    spool = Spool(tmp_path)
    spool.append([_post("1", "old")], job="a")
    spool.append([_post("1", "new")], job="a")
    posts = list(spool)
    assert len(posts) == 1 and posts[0].text == "new"


def test_torn_last_line_is_skipped_not_fatal(tmp_path):
    spool = Spool(tmp_path)
    spool.append([_post("1")], job="a")
    with spool.path_for("a").open("a", encoding="utf-8") as fh:
        fh.write('{"platform": "demo", "post_id": "2", "te')  # a crash mid-write
    assert [p.key for p in read_posts(spool.path_for("a"))] == ["demo:1"]


def test_job_names_cannot_escape_the_folder(tmp_path):
    spool = Spool(tmp_path / "spool")
    path = spool.path_for("../../etc/passwd")
    assert path.parent == tmp_path / "spool"


def test_fingerprints_come_from_the_index_and_follow_the_newest_fetch(tmp_path):
    from core.spool import content_fingerprint

    spool = Spool(tmp_path)
    spool.append([_post("1", "old"), _post("2")], job="a")
    spool.append([_post("1", "new")], job="b")
    assert spool.fingerprints() == {p.key: content_fingerprint(p) for p in spool}
    assert spool.fingerprints()["demo:1"] == content_fingerprint(_post("1", "new"))
    # the index alone answers: the posts themselves are not read again
    raw = spool.path_for("a").read_bytes()
    assert b'"text":"t"' in raw
    spool.path_for("a").write_bytes(raw.replace(b'"text":"t"', b'"text":"T"'))
    assert spool.fingerprints()["demo:2"] == content_fingerprint(_post("2"))


def test_a_spool_written_before_indexes_is_indexed_once(tmp_path):
    from core.spool import INDEX_SUFFIX, content_fingerprint

    spool = Spool(tmp_path)
    spool.append([_post("1"), _post("2", "x")], job="a")
    index = spool.path_for("a").with_suffix(INDEX_SUFFIX)
    index.unlink()  # as an older version left it
    assert spool.fingerprints() == {
        "demo:1": content_fingerprint(_post("1")),
        "demo:2": content_fingerprint(_post("2", "x")),
    }
    assert index.is_file()
    index.unlink()
    spool.append([_post("3")], job="a")  # appending to an unindexed file indexes the old posts too
    assert set(spool.fingerprints()) == {"demo:1", "demo:2", "demo:3"}


def test_a_torn_index_line_or_a_truncated_spool_never_hides_a_post(tmp_path):
    from core.spool import INDEX_SUFFIX

    spool = Spool(tmp_path)
    spool.append([_post("1"), _post("2")], job="a")
    index = spool.path_for("a").with_suffix(INDEX_SUFFIX)
    with index.open("a", encoding="utf-8") as fh:
        fh.write("demo:9\tabc")  # a crash mid-write of the index
    assert set(spool.fingerprints()) == {"demo:1", "demo:2"}
    # the spool cut back to its first post by hand: its index no longer matches, so it is rebuilt from the posts
    first = spool.path_for("a").read_bytes().split(b"\n")[0] + b"\n"
    spool.path_for("a").write_bytes(first)
    assert set(spool.fingerprints()) == {"demo:1"}
    spool.path_for("a").unlink()  # an index without its spool counts for nothing
    assert spool.fingerprints() == {}


def test_an_append_after_a_torn_index_line_keeps_its_first_entry(tmp_path):
    from core.spool import INDEX_SUFFIX

    spool = Spool(tmp_path)
    spool.append([_post("1")], job="a")
    index = spool.path_for("a").with_suffix(INDEX_SUFFIX)
    with index.open("a", encoding="utf-8") as fh:
        fh.write("demo:9\tabc")  # a crash mid-write of the index
    spool.append([_post("2"), _post("3")], job="a")
    assert set(spool.fingerprints()) == {"demo:1", "demo:2", "demo:3"}
    lines = index.read_text(encoding="utf-8").splitlines()
    assert lines[1] == "demo:9\tabc" and lines[2].startswith("demo:2\t")
