// Demo site client: everything a visitor reads is fetched and rendered here (never in the served HTML).
// Text always goes in through textContent, so hostile captions cannot inject markup.
"use strict";

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

// Times come as ISO strings with +08:00; show them in Beijing time the way the apps do.
function shownTime(iso) {
  const d = new Date(iso);
  const parts = new Intl.DateTimeFormat("zh-CN", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hour12: false,
  }).formatToParts(d);
  const get = (t) => (parts.find((p) => p.type === t) || {}).value;
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}`;
}

function timeEl(iso, cls) {
  return el("time", { class: cls, datetime: iso }, shownTime(iso) + " (北京时间)");
}

function shortCount(n) {
  return n >= 10000 ? (n / 10000).toFixed(1) + "万" : String(n);
}

async function getJSON(url) {
  const r = await fetch(url, { headers: { Accept: "application/json" } });
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return r.json();
}

// Calls load() whenever the sentinel scrolls into view, and again while it stays visible.
function onReachBottom(sentinel, load) {
  let busy = false;
  const visible = () => {
    const r = sentinel.getBoundingClientRect();
    return r.top < window.innerHeight + 50;
  };
  const pump = async () => {
    if (busy) return;
    busy = true;
    try {
      while (visible()) {
        const more = await load();
        if (!more) { finished = true; observer.disconnect(); window.removeEventListener("scroll", onScroll); break; }
        await new Promise((res) => setTimeout(res, 50));
      }
    } finally { busy = false; }
  };
  // Both an observer and a scroll listener: an observer alone misses a sentinel that is pushed out and scrolled
  // back into view within one frame.
  const observer = new IntersectionObserver((entries) => { if (entries.some((e) => e.isIntersecting)) pump(); });
  observer.observe(sentinel);
  let finished = false;
  const onScroll = () => { if (!finished && visible()) pump(); };
  window.addEventListener("scroll", onScroll, { passive: true });
}

function initFeed() {
  const feed = document.getElementById("feed");
  const sentinel = document.getElementById("feed-sentinel");
  let cursor = 0;
  onReachBottom(sentinel, async () => {
    const page = await getJSON(`/api/feed?cursor=${cursor}`);
    for (const item of page.items) {
      const card = el("a", { class: "card", href: `/video/${item.id}`, "data-post-id": item.id });
      card.append(el("div", { class: "cover" }, "▶"));
      card.append(el("div", { class: "snippet" }, item.caption));
      card.append(el("div", { class: "by", "data-author-id": item.author.id }, `@${item.author.name} · ♥ ${shortCount(item.likes)}`));
      feed.append(card);
    }
    cursor = page.cursor;
    feed.dataset.count = String(feed.children.length);
    if (!page.has_more) { feed.dataset.done = "1"; sentinel.textContent = "没有更多了"; }
    return page.has_more;
  });
}

function initVideo() {
  const id = location.pathname.split("/").pop();
  const detail = document.getElementById("detail");
  const section = document.getElementById("comments");
  const list = section.querySelector(".comment-list");
  const sentinel = document.getElementById("comments-sentinel");
  getJSON(`/api/post/${id}`).then((post) => {
    document.title = `${post.author.name}的视频 · 清源演示站`;
    const art = el("article", { class: "post", "data-post-id": post.id, "data-author-id": post.author.id,
      "data-published": post.published_at });
    art.append(el("div", { class: "player" }, "▶"));
    const head = el("header", { class: "meta" });
    head.append(el("a", { class: "author-link", href: `/user/${post.author.id}`, "data-author-id": post.author.id },
      "@" + post.author.name));
    head.append(document.createTextNode(" · "));
    head.append(timeEl(post.published_at, "published"));
    art.append(head);
    art.append(el("p", { class: "caption", "data-role": "caption" }, post.caption));
    if (typeof post.image === "string" && post.image.startsWith("/static/")) {
      const fig = el("figure", { class: "media", "data-role": "media" });
      fig.append(el("img", { src: post.image, alt: "", loading: "eager" }));
      art.append(fig);
    }
    const metrics = el("ul", { class: "metrics" });
    for (const [name, label] of [["likes", "赞"], ["comment_count", "评论"], ["collects", "收藏"], ["shares", "分享"],
      ["views", "播放"]]) {
      metrics.append(el("li", { "data-metric": name, "data-value": post[name] }, `${label} ${shortCount(post[name])}`));
    }
    art.append(metrics);
    detail.append(art);
    detail.dataset.state = "ready";
    section.dataset.total = String(post.comment_count);
    if (post.comment_count === 0) { section.dataset.done = "1"; sentinel.textContent = "暂无评论"; return; }
    let cursor = 0;
    onReachBottom(sentinel, async () => {
      section.dataset.state = "loading";
      const page = await getJSON(`/api/post/${id}/comments?cursor=${cursor}`);
      for (const c of page.comments) {
        const li = el("li", { class: "comment", "data-comment-id": c.id, "data-author-id": c.author_id,
          "data-author-name": c.author_name, "data-published": c.published_at, "data-likes": c.likes });
        const meta = el("div", { class: "meta" });
        meta.append(el("span", { class: "comment-author" }, c.author_name));
        meta.append(document.createTextNode(" · "));
        meta.append(timeEl(c.published_at, "comment-time"));
        li.append(meta);
        li.append(el("p", { class: "comment-text" }, c.text));
        li.append(el("div", { class: "meta" }, `♥ ${c.likes}`));
        list.append(li);
      }
      cursor = page.cursor;
      section.dataset.loaded = String(list.children.length);
      section.dataset.state = "idle";
      if (!page.has_more) { section.dataset.done = "1"; sentinel.textContent = "没有更多评论"; }
      return page.has_more;
    });
  }).catch((err) => { detail.dataset.state = "error"; detail.textContent = "加载失败：" + err.message; });
}

function initUser() {
  const id = location.pathname.split("/").pop();
  const box = document.getElementById("profile");
  getJSON(`/api/user/${id}`).then((u) => {
    document.title = `${u.name}的主页 · 清源演示站`;
    box.dataset.userId = u.id;
    box.append(el("h1", { class: "name", "data-author-id": u.id }, u.name));
    box.append(el("div", { class: "meta" }, `粉丝 ${shortCount(u.followers)}`));
    box.append(el("p", { class: "bio", "data-role": "bio" }, u.bio));
    const ul = el("ul", { class: "user-posts" });
    for (const p of u.posts) {
      const li = el("li");
      li.append(el("a", { href: `/video/${p.id}`, "data-post-id": p.id }, p.caption));
      li.append(document.createTextNode(" "));
      li.append(timeEl(p.published_at, "meta"));
      ul.append(li);
    }
    box.append(ul);
    box.dataset.state = "ready";
  }).catch((err) => { box.dataset.state = "error"; box.textContent = "加载失败：" + err.message; });
}

({ feed: initFeed, video: initVideo, user: initUser })[document.body.dataset.page]();
