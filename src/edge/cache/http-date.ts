/**
 * HTTP-date (RFC 9110 §5.6.7): IMF-fixdate, plus the obsolete RFC 850 and
 * asctime forms a recipient must still accept. Anything else is invalid, which
 * for Expires means "already expired" (RFC 9111 §5.3): `Date.parse` is far too
 * lenient for that (it takes "UTC", other zones, missing commas, 1-digit hours).
 * Names are matched case-insensitively, as the grammar's literals are.
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY = '(?:mon|tue|wed|thu|fri|sat|sun)';
const LONG_DAY = '(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)';
const MONTH = '(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

/** Sun, 06 Nov 1994 08:49:37 GMT */
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`, 'i');
/** Sunday, 06-Nov-94 08:49:37 GMT */
const RFC850_DATE = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`, 'i');
/** Sun Nov  6 08:49:37 1994 */
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} (\\d{2}| \\d) ${TIME} (\\d{4})$`, 'i');

function toMs(year: number, month: string, day: number, h: string, m: string, s: string): number {
  const hours = Number(h);
  const minutes = Number(m);
  const seconds = Number(s);
  // second 60 is a leap second (RFC 9110 §5.6.7)
  if (day < 1 || day > 31 || hours > 23 || minutes > 59 || seconds > 60) return NaN;
  const mon = MONTHS.indexOf(month.toLowerCase());
  const ms = Date.UTC(year, mon, day, hours, minutes, seconds);
  // 31 Feb and the like roll over in Date.UTC: not a date
  return new Date(ms).getUTCDate() === day || seconds === 60 ? ms : NaN;
}

/**
 * An HTTP-date in ms since the epoch; NaN when invalid. `now` places the
 * two-digit years of RFC 850 dates: one more than 50 years ahead is in the past.
 */
export function parseHttpDate(v: string | undefined, now: number = Date.now()): number {
  if (v === undefined) return NaN;
  const text = v.trim();
  let m = IMF_FIXDATE.exec(text);
  if (m) return toMs(Number(m[3]), m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  m = RFC850_DATE.exec(text);
  if (m) {
    const thisYear = new Date(now).getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + Number(m[3]);
    if (year > thisYear + 50) year -= 100;
    return toMs(year, m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  }
  m = ASCTIME_DATE.exec(text);
  if (m) return toMs(Number(m[6]), m[1]!, Number(m[2]!.trim()), m[3]!, m[4]!, m[5]!);
  return NaN;
}
