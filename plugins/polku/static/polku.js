/*
 * polku.js: first-party pageviews, named events, in-place form submits and
 * the personalised block (GET /api/next).
 * Dependency-free ES2017. The journey plugin minifies it into polku.min.js
 * (budget: 2 KB gzipped), so keep it small: no frameworks, short names.
 *
 *   <script src=".../polku.min.js" data-api="/api/event" data-consent="cookieless" defer>
 *
 * data-api      where beacons go: a path (same origin) or an absolute URL
 * data-consent  "cookieless": never store an id
 *               "consent": ask (#polku-consent); after "yes" keep a random id
 *               in localStorage (polku_vid) and send it as `visitor`
 * Do Not Track / Global Privacy Control: no id is kept or sent, no notice.
 *
 * window.polku(name, props) sends a named event.
 */
(() => {
  const d = document;
  const n = navigator;
  const w = window;
  const s = d.currentScript;
  const data = (s && s.dataset) || {};
  const api = data.api || "/api/event";
  const asked = data.consent == "consent";
  const optOut = n.doNotTrack == "1" || n.globalPrivacyControl === true;
  const KEYS = ["ref", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"];
  const VID = "polku_vid";
  const CHOICE = "polku_consent";
  const ATTR = "polku_attr";

  // Web storage that never throws (private modes, blocked storage):
  // store(area, key) reads, store(area, key, value) writes, value null removes.
  const store = (area, key, value) => {
    try {
      area = w[area];
      return value === undefined ? area.getItem(key)
        : value === null ? area.removeItem(key)
        : area.setItem(key, value);
    } catch (e) {}
  };

  // Attribution: UTM parameters and ?ref= of the URL the session landed on,
  // kept in sessionStorage so that later pages of the visit still know them.
  const query = new URLSearchParams(location.search);
  let attr = {};
  KEYS.forEach(k => query.get(k) && (attr[k] = query.get(k).slice(0, 200)));
  if (Object.keys(attr).length) store("sessionStorage", ATTR, JSON.stringify(attr));
  else try { attr = JSON.parse(store("sessionStorage", ATTR)) || {}; } catch (e) {}

  // The visitor id: only in consent mode, only after "yes", never under DNT/GPC.
  const visitor = () =>
    (asked && !optOut && store("localStorage", CHOICE) == "yes" && store("localStorage", VID)) || undefined;

  // One beacon. text/plain needs no CORS preflight when the tracker is on
  // another origin. JSON.stringify leaves out `visitor` / `props` when undefined.
  const send = (name, props) => {
    const body = JSON.stringify({
      name,
      url: location.href,
      referrer: d.referrer,
      title: d.title,
      width: screen.width,
      visitor: visitor(),
      props,
    });
    try {
      if (n.sendBeacon(api, new Blob([body], { type: "text/plain" }))) return;
    } catch (e) {}
    fetch(api, {
      method: "POST",
      body,
      keepalive: true,
      headers: { "Content-Type": "text/plain" },
      credentials: "omit",
    }).catch(() => {});
  };
  w.polku = send;

  // Consent mode: the notice (hidden in the HTML) and the footer button that reopens it.
  if (asked) {
    const box = d.getElementById("polku-consent");
    if (optOut) store("localStorage", VID, null);
    else if (box) {
      box.querySelectorAll("button").forEach(b => b.onclick = () => {
        const yes = b.value == "yes";
        store("localStorage", CHOICE, yes ? "yes" : "no");
        store("localStorage", VID, yes
          ? store("localStorage", VID) ||
            (crypto.randomUUID ? crypto.randomUUID()
              : [...crypto.getRandomValues(new Uint8Array(16))].map(x => (x + 256).toString(16).slice(1)).join(""))
          : null);
        box.hidden = true;
      });
      box.hidden = !!store("localStorage", CHOICE);
      d.querySelectorAll("[data-polku-choices]").forEach(b => {
        b.hidden = false;
        b.onclick = () => { box.hidden = false; box.querySelector("button").focus(); };
      });
    }
  }

  // Forms: fill the attribution fields; submit in place, and fall back to a
  // normal submit when fetch itself fails (network, CORS) so nothing is lost.
  d.querySelectorAll("form[data-polku-form]").forEach(f => {
    const fill = () => {
      KEYS.forEach(k => f[k] && attr[k] && (f[k].value = attr[k]));
      if (f.visitor) f.visitor.value = visitor() || "";
    };
    fill();
    f.addEventListener("submit", async e => {
      e.preventDefault();
      fill();
      const button = f.querySelector("[type=submit]");
      const out = f.querySelector(".polku-form-status");
      const say = (text, bad) => {
        if (out) {
          out.setAttribute("role", bad ? "alert" : "status");
          out.textContent = text;
        }
      };
      let r, j;
      button && (button.disabled = true);
      say(f.dataset.sending);
      try {
        r = await fetch(f.action, { method: "POST", body: new FormData(f), headers: { Accept: "application/json" } });
      } catch (x) {
        return f.submit();
      }
      try { j = await r.json(); } catch (x) {}
      button && (button.disabled = false);
      // Not JSON: the tracker answered with its HTML page (e.g. after a 303).
      if (!j && r.ok) return location.assign(r.url);
      j = j || {};
      if (r.ok && j.ok !== false) {
        say(j.message || f.dataset.sent);
        f.reset();
        fill();
      } else say(j.error || f.dataset.error, 1);
    });
  });

  // Code blocks and tables that scroll sideways must be reachable by keyboard.
  d.querySelectorAll("pre,table").forEach(e => e.scrollWidth > e.clientWidth && (e.tabIndex = 0));

  send("pageview");

  // Once one of els is half in view, f() runs, once.
  const seen = (els, f) => {
    const o = new IntersectionObserver(e => e.some(x => x.isIntersecting) && (o.disconnect(), f()), { threshold: 0.5 });
    els.forEach(x => o.observe(x));
  };

  // The personalised block (polku/next.html): ask the tracker what fits this
  // reader and swap only texts and links (fixed heights: nothing moves). No
  // answer within 1.5 s, or an error: the default stays. Once the block is
  // half in view, one "personalisation" event says the arm and what was shown
  // (for the holdout, also what would have been); clicks on it are events too.
  // The answer's running A/B tests: each marked text (data-polku-x) shows this
  // reader's variant (the HTML carries the control's), and the first time
  // one is half in view the test's "exposure" is sent.
  const box = d.querySelector("[data-polku-next]");
  if (box) {
    const q = new URLSearchParams({ url: location.href });
    const stop = new AbortController();
    const $ = k => box.querySelector("[data-polku-" + k + "]");
    const read = $("next-read"), go = $("next-cta"), t = box.dataset;
    const at = x => x ? new URL(x.url, location.href).pathname : "";
    const of = x => x ? x.kind + (x.guide ? ":" + x.guide : "") : "";
    visitor() && q.set("visitor", visitor());
    setTimeout(() => stop.abort(), 1500);
    fetch(t.polkuNext + "?" + q, { signal: stop.signal }).then(r => r.json()).then(a => {
      if (!a.arm) return;
      const x = a.cta, K = x && x.kind.replace(/^./, m => m.toUpperCase()), o = a.would || a;
      if (a.arm == "personal") {
        if (a.next && read) read.href = a.next.url, read.textContent = a.next.title;
        if (go && t["label" + K]) {
          go.parentNode.dataset.polkuCta = x.kind;
          go.dataset.polkuX = of(x);
          $("cta-label").textContent = t["label" + K];
          go.href = x.url;
          go.textContent = t["text" + K] || x.title;
        }
      }
      box.onclick = e => e.target.href && send("personalisation-click", { arm: a.arm, target: e.target == read ? "next" : "cta" });
      seen([box], () =>
        send("personalisation", { arm: a.arm, next: at(a.next), cta: of(go && x), would_next: at(o.next), would_cta: of(o.cta) }));
      a.experiments.forEach(v => {
        const m = d.querySelectorAll(`[data-polku-x="${v.mark}"]`);
        v.text && m.forEach(e => e.textContent = v.text);
        seen(m, () => send("exposure", v.exposure));
      });
    }).catch(() => {});
  }
})();
