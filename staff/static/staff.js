// The workbench's only script: live deadline countdowns, canned replies into the reply box,
// live updates from /staff/events (the queue and the open ticket change in place) and the
// keyboard shortcuts listed at the foot of every page.
(function () {
  "use strict";
  function span(seconds, lang) {
    var minutes = Math.floor(Math.abs(seconds) / 60);
    var days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60), mins = minutes % 60;
    var mm = (mins < 10 ? "0" : "") + mins;
    if (lang === "en") {
      if (days >= 2) return days + "d " + hours + "h";
      return (days || hours) ? (days * 24 + hours) + "h " + mm + "m" : mins + "m";
    }
    if (days >= 2) return days + "天" + hours + "小时";
    return (days || hours) ? (days * 24 + hours) + "小时" + mm + "分" : mins + "分钟";
  }
  // The server's clock may be fixed (MEMBERBOT_NOW): count from it, not from this machine's.
  var skew = 0;
  function tick() {
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var seconds = (Date.parse(el.dataset.due) - (Date.now() + skew)) / 1000;
      var lang = el.dataset.lang, s = span(seconds, lang);
      if (seconds > 0) {
        el.textContent = lang === "en" ? s + " left" : "剩 " + s;
      } else {
        el.textContent = lang === "en" ? s + " late" : "超时 " + s;
        var cell = el.closest(".due");
        if (cell) cell.classList.add("late");
      }
    });
  }
  function toast(text) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var note = document.createElement("p");
    note.className = "toast";
    note.textContent = text;
    box.appendChild(note);
    setTimeout(function () { note.remove(); }, 8000);
  }

  function scrollTranscript() {
    var list = document.getElementById("transcript");
    if (list) list.scrollTop = list.scrollHeight;
  }

  // Swap each [data-live] region for its fresh copy from the server, leaving the reply box
  // (and whatever is being typed in it) alone.
  function refresh() {
    return fetch(location.href, { credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (region) {
          var replacement = fresh.getElementById(region.id);
          if (replacement) region.replaceWith(document.importNode(replacement, true));
        });
        scrollTranscript();
        select(selected());
        tick();
      });
  }

  function listen() {
    var body = document.body;
    if (!window.EventSource || !body.dataset.events) return;
    // A ticket page says which ticket it shows: it counts as open while the stream is.
    var ticket = body.dataset.ticket;
    var source = new EventSource(body.dataset.events + (ticket ? "?ticket=" + encodeURIComponent(ticket) : ""));
    source.addEventListener("viewers", refresh);
    ["ticket", "message", "assigned"].forEach(function (kind) {
      source.addEventListener(kind, function (event) {
        var number = event.data.trim();
        var words = body.dataset["live" + kind.charAt(0).toUpperCase() + kind.slice(1)] || "";
        if (!body.dataset.ticket || body.dataset.ticket === number) refresh();
        if (body.dataset.ticket !== number) toast(words.replace("{number}", number));
      });
    });
  }

  // -- keyboard ----------------------------------------------------------------------------
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("table.queue tbody tr")); }
  function selected() {
    var row = document.querySelector("table.queue tbody tr.selected");
    return row ? row.dataset.ticket : null;
  }
  function select(number) {
    rows().forEach(function (row) {
      row.classList.toggle("selected", row.dataset.ticket === number);
      if (row.dataset.ticket === number) row.scrollIntoView({ block: "nearest" });
    });
  }
  function move(step) {
    var all = rows();
    if (!all.length) return;
    var at = all.findIndex(function (row) { return row.classList.contains("selected"); });
    var next = Math.min(all.length - 1, Math.max(0, at < 0 ? 0 : at + step));
    select(all[next].dataset.ticket);
  }
  function onKey(event) {
    var target = event.target;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.id === "reply-text") {
      event.preventDefault();
      target.form.requestSubmit();
      return;
    }
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) || target.isContentEditable;
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    var reply = document.getElementById("reply-text");
    var mine = document.querySelector("form.assign-me");
    var help = document.getElementById("shortcuts");
    var search = document.querySelector(".filters input[name=q]");
    var handled = true;
    if (event.key === "j") move(1);
    else if (event.key === "k") move(-1);
    else if (event.key === "Enter" && selected()) {
      var link = document.querySelector("table.queue tr.selected a");
      if (link) location.href = link.href;
    } else if (event.key === "/" && search) search.focus();
    else if (event.key === "r" && reply) reply.focus();
    else if (event.key === "a" && mine) mine.requestSubmit();
    else if (event.key === "Escape" && document.body.dataset.ticket) {
      location.href = document.querySelector("header.top .brand").href;
    } else if (event.key === "?" && help) help.open = !help.open;
    else handled = false;
    if (handled) event.preventDefault();
  }

  document.addEventListener("keydown", onKey);
  document.addEventListener("DOMContentLoaded", function () {
    scrollTranscript();
    listen();
    document.querySelectorAll("select.canned").forEach(function (select) {
      select.addEventListener("change", function () {
        var chosen = select.options[select.selectedIndex];
        var target = document.getElementById(select.dataset.target);
        if (chosen && chosen.dataset.body && target) {
          target.value = target.value ? target.value + "\n" + chosen.dataset.body : chosen.dataset.body;
          target.focus();
        }
      });
    });
    var serverNow = Date.parse(document.body.dataset.now || "");
    if (!isNaN(serverNow)) skew = serverNow - Date.now();
    setInterval(tick, 30000);
  });
})();
