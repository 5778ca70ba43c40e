// Gongyi: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  var doc = document;
  var self = doc.currentScript;

  // htmx (about 16 KB compressed) is fetched only by pages that use it, and only after
  // the page has loaded, so it never delays the first paint on a slow network. Until it
  // arrives every form still works as a plain form.
  var htmxUrl = self && self.getAttribute("data-htmx");
  var HX = ["get", "post", "put", "patch", "delete", "boost"].map(function (v) {
    return "[hx-" + v + "],[data-hx-" + v + "]";
  }).join(",");
  function loadHtmx() {
    if (window.htmx || !htmxUrl || !doc.querySelector(HX)) return;
    var s = doc.createElement("script");
    s.src = htmxUrl;
    doc.head.appendChild(s);
  }
  if (doc.readyState === "complete") loadHtmx();
  else window.addEventListener("load", loadHtmx);

  // 朗读 Read aloud: the phone's own speech synthesis, in the page's language.
  var synth = window.speechSynthesis;
  var canSpeak = !!(synth && window.SpeechSynthesisUtterance);
  var speaking = null;

  function speechLang() {
    var lang = (doc.documentElement.lang || "zh-CN").toLowerCase();
    return lang.indexOf("zh") === 0 ? "zh-CN" : "en-US";
  }

  // Long texts are read sentence by sentence: some phones stop a single long utterance.
  function sentences(text) {
    var parts = text.replace(/\s+/g, " ").match(/[^。！？；.!?;]+[。！？；.!?;]*/g) || [];
    parts = parts.filter(function (p) { return /[^\s。！？；.!?;]/.test(p); });
    var out = [];
    parts.forEach(function (p) {
      p = p.trim();
      while (p.length > 180) { out.push(p.slice(0, 180)); p = p.slice(180); }
      if (p) out.push(p);
    });
    return out;
  }

  function setLabel(btn, reading) {
    var span = btn.querySelector("span");
    if (!span) return;
    if (!btn.getAttribute("data-read-label")) btn.setAttribute("data-read-label", span.textContent);
    span.textContent = reading ? btn.getAttribute("data-stop-label") : btn.getAttribute("data-read-label");
    btn.classList.toggle("reading", reading);
  }

  function stop() {
    if (speaking) setLabel(speaking, false);
    speaking = null;
    synth.cancel();
  }

  function read(btn) {
    var target = doc.getElementById(btn.getAttribute("data-read"));
    if (!target) return;
    var lang = speechLang();
    // Read what the page shows, less the read-aloud buttons and decorative icons.
    var copy = target.cloneNode(true);
    Array.prototype.forEach.call(copy.querySelectorAll("button[data-read],[aria-hidden='true'],[hidden],script,style"),
      function (el) { el.parentNode.removeChild(el); });
    Array.prototype.forEach.call(copy.querySelectorAll("p,li,h1,h2,h3,dt,dd,div,br"), function (el) {
      el.appendChild(doc.createTextNode("。"));  // a pause between blocks
    });
    var parts = sentences(copy.textContent || "");
    if (!parts.length) return;
    stop();
    speaking = btn;
    setLabel(btn, true);
    parts.forEach(function (text, i) {
      var u = new SpeechSynthesisUtterance(text);
      u.lang = lang;
      u.rate = 0.9;  // a little slower than the default: easier to follow
      if (i === parts.length - 1) {
        u.onend = u.onerror = function () { if (speaking === btn) { setLabel(btn, false); speaking = null; } };
      }
      synth.speak(u);
    });
  }

  function reveal(root) {
    Array.prototype.forEach.call((root || doc).querySelectorAll("button[data-read]"), function (btn) {
      btn.hidden = false;
    });
  }

  if (canSpeak) {
    reveal(doc);
    doc.addEventListener("htmx:load", function (e) { reveal(e.target); });  // swapped-in regions
    doc.addEventListener("click", function (e) {
      var btn = e.target.closest && e.target.closest("button[data-read]");
      if (!btn) return;
      if (speaking === btn) stop(); else read(btn);
    });
    window.addEventListener("pagehide", function () { synth.cancel(); });
  }
})();
