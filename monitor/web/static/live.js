// The flagged list's "N new" link: asks /api/newer every 10 s how many flagged items of this page's filters
// were stored after the page was read (ids above its data-after, whatever their published date), and shows
// the count as a link to exactly those items (the same filters with after=). The page works without it; no
// inline script, so the Content-Security-Policy allows only this file.
(function () {
  "use strict";
  var link = document.getElementById("newer");
  if (!link) { return; }
  var after = link.getAttribute("data-after") || "0";
  var digits = "۰۱۲۳۴۵۶۷۸۹";
  function fa(n) { return String(n).replace(/[0-9]/g, function (d) { return digits[+d]; }); }
  function ask() {
    var params = new URLSearchParams(window.location.search);
    params.set("after", after);
    fetch("/api/newer?" + params.toString(), {headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && data.count > 0) {
          link.textContent = fa(data.count) + " خبر تازه";
          params.set("after", after);
          link.href = window.location.pathname + "?" + params.toString();
          link.hidden = false;
        }
      })
      .catch(function () {});
  }
  ask();
  window.setInterval(ask, 10000);
}());
