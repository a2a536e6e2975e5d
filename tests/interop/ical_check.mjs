// Parses an iCalendar feed with ical.js (npm), an implementation we did not
// write, and prints what it read as one JSON object, for
// tests/e2e/test_calendar_feed.py to compare with what was published.
//
//   node ical_check.mjs [FILE]     (the feed on standard input without FILE)
//
// Exits 1 with the parser's message when the feed does not parse, or when
// it is not one VCALENDAR. Values are as ical.js decodes them: TEXT
// unescaped, parameters RFC 6868-decoded, dates as ISO-like strings.
import { readFileSync } from 'node:fs';
import ICAL from 'ical.js';

const text = readFileSync(process.argv[2] ?? 0, 'utf8');

function fail(msg) {
  console.error(`ical_check: ${msg}`);
  process.exit(1);
}

let jcal;
try {
  jcal = ICAL.parse(text);
} catch (e) {
  fail(`ical.js cannot parse the feed: ${e.message}`);
}
if (!Array.isArray(jcal) || jcal[0] !== 'vcalendar')
  fail('the feed is not one VCALENDAR');

const cal = new ICAL.Component(jcal);
const first = (comp, name) => {
  const v = comp.getFirstPropertyValue(name);
  return v === null || v === undefined ? null : v;
};
const asText = (raw) =>
  raw === null ? null : ICAL.design.icalendar.value.text.fromICAL(raw);
const time = (comp, name) => {
  const p = comp.getFirstProperty(name);
  if (!p) return null;
  const t = p.getFirstValue();
  return { value: t.toString(), isDate: t.isDate, utc: t.zone === ICAL.Timezone.utcTimezone };
};

const events = cal.getAllSubcomponents('vevent').map((ev) => {
  const org = ev.getFirstProperty('organizer');
  return {
    uid: first(ev, 'uid'),
    summary: first(ev, 'summary'),
    description: first(ev, 'description'),
    location: first(ev, 'location'),
    status: first(ev, 'status'),
    sequence: first(ev, 'sequence'),
    dtstamp: time(ev, 'dtstamp'),
    dtstart: time(ev, 'dtstart'),
    dtend: time(ev, 'dtend'),
    geo: first(ev, 'geo'),
    url: first(ev, 'url'),
    conference: ev.getAllProperties('conference').map((p) => p.getFirstValue()),
    categories: ev.getAllProperties('categories').flatMap((p) => p.getValues()),
    organizer: org ? { cn: org.getParameter('cn'), value: org.getFirstValue() } : null,
    properties: ev.getAllProperties().map((p) => p.name),
  };
});

// Expanding each event as a calendar app does also exercises the times.
for (const ev of cal.getAllSubcomponents('vevent')) {
  const e = new ICAL.Event(ev);
  if (!e.startDate || (e.endDate && e.endDate.compare(e.startDate) < 0))
    fail(`event ${e.uid} ends before it starts`);
}

console.log(JSON.stringify({
  version: first(cal, 'version'),
  prodid: first(cal, 'prodid'),
  calscale: first(cal, 'calscale'),
  method: first(cal, 'method'),
  // ical.js does not know NAME (RFC 7986) or X-WR-CALNAME and leaves their
  // values raw; calendar apps read them as TEXT, and so do we.
  name: asText(first(cal, 'name')),
  xWrCalname: asText(first(cal, 'x-wr-calname')),
  properties: cal.getAllProperties().map((p) => p.name),
  events,
}, null, 1));
