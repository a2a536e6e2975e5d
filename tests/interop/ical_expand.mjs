// Expands the recurring events of an iCalendar feed with ical.js (npm), an
// implementation we did not write, and prints each occurrence as a JSON
// array of {uid, start, end, utc, status}: start and end as ical.js writes
// the wall-clock time, utc the instant (null when ical.js cannot place the
// time), status the occurrence's own (a RECURRENCE-ID override's).
// For tests/e2e/test_recurring.py.
//
//   node ical_expand.mjs [FILE]     (the feed on standard input without FILE)
import { readFileSync } from 'node:fs';
import ICAL from 'ical.js';

const text = readFileSync(process.argv[2] ?? 0, 'utf8');
const cal = new ICAL.Component(ICAL.parse(text));
for (const tz of cal.getAllSubcomponents('vtimezone'))
  ICAL.TimezoneService.register(tz);
const vevents = cal.getAllSubcomponents('vevent');
const masters = vevents.filter((v) => !v.hasProperty('recurrence-id'));
const overrides = vevents.filter((v) => v.hasProperty('recurrence-id'));
const out = [];
const utc = (t) => (t.zone && t.zone.tzid !== 'floating' ? t.toUnixTime() : null);
for (const m of masters) {
  const ev = new ICAL.Event(m);
  for (const o of overrides)
    if (o.getFirstPropertyValue('uid') === ev.uid) ev.relateException(o);
  if (!ev.isRecurring()) continue;
  const it = ev.iterator();
  let next;
  while ((next = it.next())) {
    const d = ev.getOccurrenceDetails(next);
    out.push({
      uid: ev.uid,
      start: d.startDate.toString(),
      end: d.endDate.toString(),
      utc: utc(d.startDate),
      status: d.item.component.getFirstPropertyValue('status'),
    });
    if (out.length > 5000) throw new Error('runaway expansion');
  }
}
console.log(JSON.stringify(out));
