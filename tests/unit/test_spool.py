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
