/*
 * http_assets.c - the style sheet and the script of the pages, built into
 * the binary: no build step, and no file to lose next to it.
 *
 * The script only improves what the HTML already says: it shows the UTC
 * times of <time data-local> in the reader's zone, names that zone where
 * the page says UTC (.zone), and regroups the calendar's days by the
 * reader's dates. It reads nothing but the
 * datetime attributes the server wrote, and writes text with textContent.
 */
#include <string.h>

#include "http.h"

static const char style[] =
    ":root{--fg:#1d1d1f;--bg:#fdfdfb;--mute:#666;--line:#ddd;--accent:#b3261e}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font:16px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
    "sans-serif;color:var(--fg);background:var(--bg)}\n"
    "header{background:#222;padding:.6rem 1rem}\n"
    "header a{color:#fff;margin-right:1rem;text-decoration:none;font-weight:600}\n"
    "main{max-width:46rem;margin:0 auto;padding:1rem}\n"
    "h1{font-size:1.6rem;margin:.4rem 0;overflow-wrap:anywhere}\n"
    "h2{font-size:1.1rem;margin:1.4rem 0 .4rem;border-bottom:1px solid "
    "var(--line);padding-bottom:.2rem}\n"
    "a{color:#0b57d0}\n"
    ".lead{color:var(--mute)}\n"
    ".subscribe{background:#eef3fd;padding:.6rem .8rem;border-radius:.4rem;"
    "overflow-wrap:anywhere}\n"
    /* Long links (a feed's, a share link) break anywhere, also where
     * overflow-wrap:anywhere is not known. */
    ".subscribe a,a.share{word-break:break-all}\n"
    ".zone{color:var(--mute);font-size:.85em}\n"
    ".actions a.ics{display:inline-block;padding:.3rem .7rem;border-radius:"
    ".3rem;background:#0b57d0;color:#fff;text-decoration:none}\n"
    "p.share{overflow-wrap:anywhere}\n"
    "details.record{color:var(--mute);font-size:.85rem;margin-top:1.5rem}\n"
    "ul.events,ul.causes,ul.alliances{list-style:none;padding:0;margin:0}\n"
    "li.event{padding:.6rem 0;border-bottom:1px solid var(--line);"
    "overflow-wrap:anywhere}\n"
    "li.event .title{font-weight:600;font-size:1.05rem}\n"
    ".when{color:var(--mute);font-size:.9rem}\n"
    ".status{font-size:.75rem;text-transform:uppercase;letter-spacing:.04em;"
    "padding:0 .3rem;border-radius:.2rem;background:#eee}\n"
    ".status.cancelled{background:var(--accent);color:#fff}\n"
    ".status.tentative{background:#fff3c4}\n"
    ".cancelled .title{text-decoration:line-through;color:var(--mute)}\n"
    ".hosts,.cause,.place,.online{font-size:.9rem}\n"
    "ul.causes li,ul.alliances li{padding:.4rem 0;border-bottom:1px solid "
    "var(--line);overflow-wrap:anywhere}\n"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem .8rem}\n"
    "dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}\n"
    ".description{white-space:pre-wrap;overflow-wrap:anywhere;margin:1rem 0}\n"
    ".key{font-family:monospace;font-size:.8rem}\n"
    ".tag{background:#eee;border-radius:.2rem;padding:0 .3rem}\n"
    ".none{color:var(--mute)}\n"
    "footer{max-width:46rem;margin:2rem auto;padding:0 1rem;color:var(--mute);"
    "font-size:.8rem}\n"
    "@media (max-width:30rem){main{padding:.6rem}dl{grid-template-columns:1fr}"
    "dt{margin-top:.4rem}h1{font-size:1.35rem}}\n";

static const char script[] =
    "'use strict';\n"
    "(function () {\n"
    "  var two = function (n) { return (n < 10 ? '0' : '') + n; };\n"
    "  var day = function (d) {\n"
    "    return d.getFullYear() + '-' + two(d.getMonth() + 1) + '-' + "
    "two(d.getDate());\n"
    "  };\n"
    "  var zone = '';\n"
    "  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ''; "
    "}\n"
    "  catch (e) { zone = ''; }\n"
    "  var weekday = function (d) {\n"
    "    return d.toLocaleDateString(undefined, {weekday: 'short'});\n"
    "  };\n"
    "  var dayName = function (d) {\n"
    "    return d.toLocaleDateString(undefined, {weekday: 'long', year: "
    "'numeric', month: 'long', day: 'numeric'});\n"
    "  };\n"
    "  document.querySelectorAll('time[data-local]').forEach(function (t) {\n"
    "    var d = new Date(t.getAttribute('datetime'));\n"
    "    if (isNaN(d.getTime())) return;\n"
    "    var clock = d.toLocaleTimeString(undefined, {hour: '2-digit', minute: "
    "'2-digit'});\n"
    "    /* An end on the start's day shows only its time. */\n"
    "    var prev = t.previousElementSibling;\n"
    "    var same = prev && prev.matches('time[data-local]') &&\n"
    "      day(new Date(prev.getAttribute('datetime'))) === day(d);\n"
    "    t.textContent = same ? clock : weekday(d) + ' ' + day(d) + ' ' + "
    "clock;\n"
    "    t.title = d.toString();\n"
    "  });\n"
    "  document.querySelectorAll('.zone').forEach(function (z) {\n"
    "    z.textContent = zone || 'your time zone';\n"
    "  });\n"
    "  /* The server groups the calendar by UTC date; move each event under\n"
    "     its date in the reader's zone. */\n"
    "  var days = document.querySelectorAll('section.day');\n"
    "  if (days.length === 0) return;\n"
    "  var main = days[0].parentNode, anchor = days[0], byDay = {}, order = "
    "[];\n"
    "  document.querySelectorAll('section.day li.event').forEach(function (li) "
    "{\n"
    "    var t = li.querySelector('.when time'), s = t.getAttribute('datetime');\n"
    "    var key = s.length === 10 ? s : day(new Date(s));\n"
    "    if (!byDay[key]) { byDay[key] = []; order.push(key); }\n"
    "    byDay[key].push(li);\n"
    "  });\n"
    "  order.sort();\n"
    "  order.forEach(function (key) {\n"
    "    var sec = document.createElement('section'), h = "
    "document.createElement('h2');\n"
    "    var tm = document.createElement('time'), ul = "
    "document.createElement('ul');\n"
    "    var p = key.split('-');\n"
    "    sec.className = 'day';\n"
    "    tm.setAttribute('datetime', key);\n"
    "    tm.textContent = dayName(new Date(+p[0], +p[1] - 1, +p[2]));\n"
    "    ul.className = 'events';\n"
    "    byDay[key].forEach(function (li) { ul.appendChild(li); });\n"
    "    h.appendChild(tm);\n"
    "    sec.appendChild(h);\n"
    "    sec.appendChild(ul);\n"
    "    main.insertBefore(sec, anchor);\n"
    "  });\n"
    "  days.forEach(function (s) { s.remove(); });\n"
    "})();\n";

/* A calendar page, so that browsers do not ask for /favicon.ico. */
static const char icon[] =
    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\">"
    "<rect x=\"1\" y=\"2\" width=\"14\" height=\"13\" rx=\"2\" fill=\"#fff\" "
    "stroke=\"#b3261e\" stroke-width=\"1.5\"/>"
    "<rect x=\"1\" y=\"2\" width=\"14\" height=\"4\" fill=\"#b3261e\"/></svg>\n";

int
mu_http_asset(const char *path, struct mu_http_reply *rp)
{
	const char *text;

	if (strcmp(path, "/style.css") == 0) {
		text = style;
		rp->type = "text/css; charset=utf-8";
	} else if (strcmp(path, "/app.js") == 0) {
		text = script;
		rp->type = "text/javascript; charset=utf-8";
	} else if (strcmp(path, "/icon.svg") == 0) {
		text = icon;
		rp->type = "image/svg+xml; charset=utf-8";
	} else {
		return 0;
	}
	rp->status = 200;
	rp->asset = true;
	return mu_buf_append(&rp->body, text, strlen(text)) == 0 ? 1 : MU_ENOMEM;
}
