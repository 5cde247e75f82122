// Keyboard shortcuts for the review queue: c = confirm (shown first), d = dismiss (pick a reason), u = undo,
// n = next (skip), 1-9 = category.
// No inline script anywhere: the Content-Security-Policy forbids it, so everything lives in this file.
(function () {
  "use strict";
  // Number keys 1-9 pick a category on the review page: the legend (#category-keys, rendered from the server's
  // category list in its order) says which key is which; every category select on the page follows the pick.
  function categoryKeys() {
    var legend = document.getElementById("category-keys");
    if (!legend) return;
    document.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
      if (!/^[1-9]$/.test(ev.key)) return;
      var item = legend.querySelector('[data-key="' + ev.key + '"]');
      if (!item) return;
      ev.preventDefault();
      var slug = item.getAttribute("data-category");
      var selects = document.querySelectorAll('select[name="category"]');
      for (var i = 0; i < selects.length; i++) selects[i].value = slug;
      var items = legend.querySelectorAll("[data-key]");
      for (var j = 0; j < items.length; j++) items[j].classList.toggle("picked", items[j] === item);
    });
  }
  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }
  function submit(id) {
    var form = document.getElementById(id);
    if (!form) return;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
    if (!document.getElementById("confirm-form")) {
      // Nothing claimed yet: "n" takes the next item (a POST; opening the page claims nothing).
      if (ev.key === "n") { ev.preventDefault(); submit("next-form"); }
      return;
    }
    if (ev.key === "c") { ev.preventDefault(); armConfirm(); }
    else if (ev.key === "d") { ev.preventDefault(); var r = document.getElementById("reason-code"); if (r) r.focus(); }
    else if (ev.key === "u") { ev.preventDefault(); submit("undo-form"); }
    else if (ev.key === "n") { ev.preventDefault(); submit("skip-form"); }
  });
  // "c" never confirms on its own: the first press shows the category (and the cluster) that would be confirmed,
  // a second "c" or Enter submits, Escape cancels.
  function armConfirm() {
    var check = document.getElementById("confirm-check");
    if (!check) { submit("confirm-form"); return; }
    if (!check.hidden) { submit("confirm-form"); return; }
    var select = document.getElementById("confirm-category");
    var what = document.getElementById("confirm-what");
    if (select && what) what.textContent = select.options[select.selectedIndex].text;
    check.hidden = false;
    document.getElementById("confirm").focus();
  }
  document.addEventListener("keydown", function (ev) {
    var check = document.getElementById("confirm-check");
    if (ev.key === "Escape" && check && !check.hidden) { check.hidden = true; document.activeElement.blur(); return; }
    // Enter on the preset reason list dismisses (a select does not submit its form by itself).
    if (ev.key === "Enter" && ev.target && ev.target.id === "reason-code") { ev.preventDefault(); submit("dismiss-form"); return; }
    // Escape leaves the reason box so the single-key shortcuts work again.
    if (ev.key === "Escape" && typing(ev.target)) ev.target.blur();
  });
  categoryKeys();
  // The undo key works on the page after a decision even when nothing is claimed.
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
    if (ev.key === "u" && !document.getElementById("confirm-form")) { ev.preventDefault(); submit("undo-form"); }
  });
  // Guard against double submits (a decision posted twice would be refused as already handled).
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form.dataset.sent) { ev.preventDefault(); return; }
    form.dataset.sent = "1";
  });
})();
