// The workbench's only script: live deadline countdowns and canned replies into the reply box.
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
  document.addEventListener("DOMContentLoaded", function () {
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
